import { builder } from './builder.js';
import './agents.js';
import './archival.js';
import './context-window.js';
import './agent-files.js';
import './groups.js';
import './agent-events.js';
import './files.js';
import './file-views.js';
import './memory.js';
import './messages.js';
import './message-edits.js';
import './models.js';
import './platform.js';
import './runs.js';
import './run-events.js';
import './tools.js';
import './mcp.js';

/** The whole GraphQL schema; `npm run schema:print` writes it to schema.graphql. */
export const schema = builder.toSchema({ sortSchema: false });
