import { ocrImage, OcrFailed } from '../../lib/extract/ocr';

/** Text recognition's failures are named, not thrown raw (issue 20 §1: the part says why). */
describe('OCR', () => {
  it('calls a file that is no image damaged', async () => {
    const failure = await ocrImage(Buffer.from('kein Bild, nur Text')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OcrFailed);
    expect(failure).toMatchObject({ reason: 'damaged' });
  });
});
