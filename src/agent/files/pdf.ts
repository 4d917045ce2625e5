import { getDocumentProxy } from 'unpdf';
import { FileParseError } from './parse.js';

/**
 * The text of a PDF, page by page, with PDF.js (bundled by unpdf; runs offline, no native code).
 * Scanned pages have no text layer and come back empty: there is no OCR here.
 */
export async function extractPdfPages(bytes: Uint8Array, fileName: string, signal?: AbortSignal): Promise<string[]> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // PDF.js may take ownership of the buffer it is given: hand it a copy.
    pdf = await getDocumentProxy(bytes.slice(), { verbosity: 0, isEvalSupported: false, stopAtErrors: true });
  } catch (error) {
    throw new FileParseError(describeOpenError(error, fileName));
  }
  try {
    const pages: string[] = [];
    for (let number = 1; number <= pdf.numPages; number++) {
      if (signal?.aborted) return pages;
      try {
        const page = await pdf.getPage(number);
        const content = await page.getTextContent();
        let text = '';
        for (const item of content.items) {
          if (!('str' in item)) continue;
          text += item.str + (item.hasEOL ? '\n' : '');
        }
        pages.push(cleanPageText(text));
      } catch (error) {
        throw new FileParseError(`Could not read page ${number} (of ${pdf.numPages}) of ${fileName}: ${messageOf(error)}`);
      }
    }
    if (!pages.some((page) => page.trim())) {
      throw new FileParseError(`${fileName} has no extractable text (scanned pages need OCR, which this server does not do)`);
    }
    return pages;
  } finally {
    await pdf.destroy();
  }
}

/** Text as the chunker and file views expect it: no NUL or other control characters, no trailing blanks. */
function cleanPageText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function describeOpenError(error: unknown, fileName: string): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'PasswordException') return `${fileName} is encrypted with a password; upload an unencrypted copy`;
  if (name === 'InvalidPDFException') return `${fileName} is not a valid PDF (${messageOf(error)}); it may be truncated or corrupt`;
  return `Could not open the PDF ${fileName}: ${messageOf(error)}`;
}
