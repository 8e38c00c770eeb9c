namespace Microsandbox.DockerApi.Http;

/// <summary>An error the API answers in Docker's shape, <c>{"message": "..."}</c>, with its HTTP status.</summary>
internal sealed class DockerApiException(int statusCode, string message) : Exception(message)
{
    /// <summary>The HTTP status: 400 bad parameter, 404 no such object, 409 conflict, 501 not implemented here.</summary>
    public int StatusCode { get; } = statusCode;

    public static DockerApiException NotFound(string message) => new(404, message);

    public static DockerApiException BadRequest(string message) => new(400, message);

    public static DockerApiException Conflict(string message) => new(409, message);

    /// <summary>A Docker feature this server does not offer; the message names it.</summary>
    public static DockerApiException NotImplemented(string what) => new(501, $"{what} is not supported by the microsandbox Docker API");
}
