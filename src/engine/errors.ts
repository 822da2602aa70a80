// The one error type the engine's services throw for the API: the routes turn it into
// {"message": …} with this HTTP status, using dockerd's wording where clients parse it.
export class ApiError extends Error {
  status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string) => new ApiError(409, msg);
export const badRequest = (msg: string) => new ApiError(400, msg);
