/** Why a JPEG's DC map could not be read (jpeg/dc-reader.ts): a short code, and the detail. */
export type DcReadErrorCode = 'not jpeg' | 'progressive' | 'arithmetic' | 'lossless' | 'unsupported' | 'too large' | 'corrupt' | 'truncated';

export class JpegDcError extends Error {
  readonly code: DcReadErrorCode;
  constructor(code: DcReadErrorCode, message: string) {
    super(message);
    this.name = 'JpegDcError';
    this.code = code;
  }
}
