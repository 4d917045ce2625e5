-- MCP servers of an organization, and the tools they serve (issue 16).
CREATE TABLE "McpServer" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "transport" TEXT NOT NULL,
    "url" TEXT,
    "command" TEXT,
    "args" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "headerNames" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "envNames" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "secrets" TEXT,
    "configVersion" INTEGER NOT NULL DEFAULT 1,
    "tools" JSONB NOT NULL DEFAULT '[]',
    "toolsListedAt" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL DEFAULT 'unknown',
    "lastError" TEXT,
    "statusChangedAt" TIMESTAMPTZ(3),
    "metadata" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "McpServer_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "McpServer_organizationId_name_key" ON "McpServer"("organizationId", "name");
CREATE INDEX "McpServer_organizationId_name_id_idx" ON "McpServer"("organizationId", "name", "id");
ALTER TABLE "McpServer" ADD CONSTRAINT "McpServer_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "Tool" ADD COLUMN "mcpServerId" TEXT;
ALTER TABLE "Tool" ADD COLUMN "mcpToolName" TEXT;
CREATE INDEX "Tool_mcpServerId_idx" ON "Tool"("mcpServerId");
ALTER TABLE "Tool" ADD CONSTRAINT "Tool_mcpServerId_fkey" FOREIGN KEY ("mcpServerId") REFERENCES "McpServer"("id") ON DELETE CASCADE ON UPDATE CASCADE;
