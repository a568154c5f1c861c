// Errors raised while building graphs: a stable `code` for callers, a human message for people.

export type GraphErrorCode =
  | 'graph_shape_mismatch'
  | 'graph_bad_attribute'
  | 'graph_unknown_op'
  | 'graph_duplicate_name'
  | 'graph_missing_weight'
  | 'graph_bad_config';

export class GraphError extends Error {
  readonly code: GraphErrorCode;

  constructor(code: GraphErrorCode, message: string) {
    super(message);
    this.name = 'GraphError';
    this.code = code;
  }
}
