import { BadRequestError } from '../errors.ts';

/** A bad event pattern; `path` says where (`entity.username[0]`), the message what. */
export class InvalidPatternError extends BadRequestError {
  readonly path: string;
  readonly detail: string;
  constructor(path: string, detail: string) {
    super(path ? `${path}: ${detail}` : detail);
    this.path = path;
    this.detail = detail;
  }
}
