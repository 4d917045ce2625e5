import { builder } from './builder.js';

/** Input types used by more than one domain file (kept here to avoid import cycles). */

export const CreateBlockInput = builder.inputType('CreateBlockInput', {
  description: 'A core memory block. Blocks labelled human or persona get a default description.',
  fields: (t) => ({
    label: t.string({ description: 'Unique per agent, e.g. "persona", "human".' }),
    value: t.string({ required: false, description: 'Default: empty.' }),
    limit: t.int({ required: false, description: 'Characters shown to the model as chars_limit; default 100000.' }),
    description: t.string({ description: 'What the block is for, shown to the model.', required: false }),
    readOnly: t.boolean({ required: false, description: 'The agent cannot edit a read-only block.' }),
    metadata: t.field({ description: 'Free-form metadata.', type: 'JSON', required: false }),
    tags: t.stringList({ description: 'Labels to filter blocks by.', required: false }),
  }),
});
