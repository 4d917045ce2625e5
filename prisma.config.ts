import { defineConfig } from 'prisma/config';

// Only `prisma generate` runs here (migrations are applied by src/db/migrate.ts), so no URL is needed.
export default defineConfig({
  schema: 'prisma/schema.prisma',
});
