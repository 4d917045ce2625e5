-- Search index of stored messages: the text a message is found by, its full-text vector and its
-- embedding. Filled by src/services/message-search.ts (rows are (re)indexed when missing or older
-- than the message), so every insert path stays as it is. The tsvector column is kept by the
-- indexer, not generated, so that the text and the embedding always describe the same version.

-- CreateTable
CREATE TABLE "MessageSearchIndex" (
    "messageId" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "tsv" tsvector,
    "embedding" REAL[],
    "sourceUpdatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "MessageSearchIndex_pkey" PRIMARY KEY ("messageId")
);

-- CreateIndex
CREATE INDEX "MessageSearchIndex_tsv_idx" ON "MessageSearchIndex" USING GIN ("tsv");

-- AddForeignKey
ALTER TABLE "MessageSearchIndex" ADD CONSTRAINT "MessageSearchIndex_messageId_fkey" FOREIGN KEY ("messageId") REFERENCES "Message"("id") ON DELETE CASCADE ON UPDATE CASCADE;
