package io.sbora4j.cli.serve;

/**
 * A request the server refuses, with the HTTP status and the fields of OpenAI's error body
 * ({@code {"error": {"message", "type", "param", "code"}}}).
 */
final class ApiError extends RuntimeException {

    final int status;
    final String type;
    final String param;
    final String code;

    ApiError(int status, String type, String param, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** A 400 about parameter {@code param} (may be null). */
    static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, null, message);
    }
}
