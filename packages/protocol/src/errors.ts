// One error shape across the hub, the SDK, the CLI and the MCP tools: PostgREST's envelope plus the HTTP status.
export interface ErrorEnvelope {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

export class MeshError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: string | null;
  readonly hint: string | null;

  constructor(status: number, envelope: ErrorEnvelope) {
    super(envelope.message);
    this.name = 'MeshError';
    this.status = status;
    this.code = envelope.code;
    this.details = envelope.details;
    this.hint = envelope.hint;
  }

  /** One line for a terminal or a model: what was wrong, then how to fix it. */
  toSentence(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}
