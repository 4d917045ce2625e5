/**
 * Small PDFs written by hand for tests (no binary fixtures): one Helvetica text line per entry (about 50 fit on a page; lines below it are not extracted),
 * a page per array, with the cross-reference offsets computed here.
 */
export function makePdf(pages: string[][], options: { trailerExtra?: string } = {}): Uint8Array {
  const objects: string[] = [];
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[2] = `<< /Type /Pages /Kids [${pages.map((_, i) => `${4 + i * 2} 0 R`).join(' ')}] /Count ${pages.length} >>`;
  objects[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';
  const escape = (line: string) => line.replace(/[\\()]/g, (char) => `\\${char}`);
  pages.forEach((lines, i) => {
    // TL sets the leading; each ' operator moves to the next line and shows a string.
    const stream = `BT /F1 12 Tf 72 760 Td 14 TL ${lines.map((line) => `(${escape(line)}) '`).join(' ')} ET`;
    objects[4 + i * 2] = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${5 + i * 2} 0 R /Resources << /Font << /F1 3 0 R >> >> >>`;
    objects[5 + i * 2] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  });
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  for (let id = 1; id < objects.length; id++) {
    offsets[id] = out.length;
    out += `${id} 0 obj\n${objects[id]}\nendobj\n`;
  }
  const xref = out.length;
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let id = 1; id < objects.length; id++) out += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R${options.trailerExtra ?? ''} >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}

/** A PDF protected by a user password (the empty password does not open it). */
export function encryptedPdf(): Uint8Array {
  const hex = (byte: string, count: number) => `<${byte.repeat(count)}>`;
  return makePdf([['secret']], {
    trailerExtra: ` /Encrypt << /Filter /Standard /V 1 /R 2 /O ${hex('11', 32)} /U ${hex('22', 32)} /P -4 >> /ID [${hex('33', 16)} ${hex('33', 16)}]`,
  });
}

/** A PDF whose first page reads and whose second page points at an object that does not exist. */
export function brokenSecondPagePdf(): Uint8Array {
  const text = new TextDecoder('latin1').decode(makePdf([['page one reads fine'], ['page two']]));
  return new TextEncoder().encode(text.replace('[4 0 R 6 0 R]', '[4 0 R 9 0 R]'));
}
