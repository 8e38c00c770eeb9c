using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Microsandbox.DockerApi.Http;

/// <summary>
/// The API versions served: paths may start with <c>/v1.NN</c> (any version from <see cref="Minimum"/> up; answers are
/// those of <see cref="Current"/>) or carry no version at all, as with Docker.
/// </summary>
internal static partial class ApiVersion
{
    public const string Current = "1.44";
    public const string Minimum = "1.24";

    /// <summary>Strips a version prefix from the request path; an out-of-range version is refused as Docker does.</summary>
    public static void StripPrefix(HttpRequest request)
    {
        var match = Prefix().Match(request.Path.Value ?? "");
        if (!match.Success) return;
        var minor = int.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture);
        if (match.Groups[1].Value != "1" || minor < 24)
        {
            throw DockerApiException.BadRequest($"client version {match.Groups[1].Value}.{match.Groups[2].Value} is too old. Minimum supported API version is {Minimum}, please upgrade your client to a newer version");
        }
        request.Path = new PathString(match.Groups[3].Value.Length == 0 ? "/" : match.Groups[3].Value);
    }

    [GeneratedRegex(@"^/v(\d+)\.(\d+)(/.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Prefix();
}
