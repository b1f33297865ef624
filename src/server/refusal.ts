import type { ErrorCode } from '../errors.js';

/** Why an upgrade was turned away, as the HTTP answer and the counted code. */
export interface Refusal {
  status: number;
  text: string;
  headers: Record<string, string>;
  code: ErrorCode;
  message: string;
}
