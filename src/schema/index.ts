import { builder } from './builder.js';
import './agent.js';
import './archival.js';
import './context.js';
import './agent-files.js';
import './events.js';
import './folders.js';
import './file-views.js';
import './memory.js';
import './messages.js';
import './models.js';
import './organization.js';
import './runs.js';
import './run-events.js';
import './tools.js';

/** The whole GraphQL schema; `npm run schema:print` writes it to schema.graphql. */
export const schema = builder.toSchema({ sortSchema: true });
