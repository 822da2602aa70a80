// The engine's one error type: an HTTP status and dockerd's wording, sent as {"message": …}. The
// CLI prints "Error response from daemon: <message>" and keys behaviour on the status (404 → the
// inspect fallback and the auto-pull, 304 → "already stopped" is success).
export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);
export const notModified = () => new ApiError(304, "");
