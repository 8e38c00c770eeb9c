using System.Net.Http.Headers;
using System.Text;
using Microsandbox.Config;

namespace Microsandbox.Images;

/// <summary>
/// Answers a registry's <c>WWW-Authenticate</c> challenge: <c>Basic</c> with the configured credentials, or
/// <c>Bearer</c> by fetching a token from the challenge's realm (sending the credentials there when configured).
/// Tokens are kept in memory per scope for the life of one client; nothing is written to disk.
/// </summary>
internal sealed class RegistryCredentials
{
    private readonly RegistryAuth _auth;
    private readonly Dictionary<string, AuthenticationHeaderValue> _byScope = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public RegistryCredentials(RegistryAuth? auth) => _auth = auth ?? RegistryAuth.Anonymous;

    public bool HasCredentials => _auth is RegistryAuth.BasicAuth;

    /// <summary>The header to send for a repository, if a challenge has been answered for it before.</summary>
    public AuthenticationHeaderValue? Cached(string repository)
    {
        lock (_gate) return _byScope.GetValueOrDefault(repository);
    }

    /// <summary>Remembers the header that answered a challenge for a repository and action set.</summary>
    public void Remember(string key, AuthenticationHeaderValue header)
    {
        lock (_gate) _byScope[key] = header;
    }

    /// <summary>Answers a challenge; returns null when it cannot be answered (no usable scheme).</summary>
    public async Task<AuthenticationHeaderValue?> AnswerAsync(HttpClient http, HttpResponseMessage challenge, string repository, string actions, CancellationToken cancellationToken)
    {
        AuthenticationHeaderValue? header = null;
        foreach (var c in challenge.Headers.WwwAuthenticate)
        {
            if (c.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                if (BasicHeader() is { } basic) header = basic;
                else return null;
                break;
            }
            if (c.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                header = await BearerAsync(http, ParseParameters(c.Parameter ?? ""), repository, actions, cancellationToken).ConfigureAwait(false);
                break;
            }
        }
        return header;
    }

    private AuthenticationHeaderValue? BasicHeader() => _auth is RegistryAuth.BasicAuth b
        ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{b.Username}:{b.Password}")))
        : null;

    private async Task<AuthenticationHeaderValue?> BearerAsync(HttpClient http, Dictionary<string, string> parameters, string repository, string actions, CancellationToken cancellationToken)
    {
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri)) return null;
        var query = new List<string>();
        if (parameters.TryGetValue("service", out var service)) query.Add("service=" + Uri.EscapeDataString(service));
        query.Add("scope=" + Uri.EscapeDataString($"repository:{repository}:{actions}"));
        var builder = new UriBuilder(realmUri) { Query = string.Join('&', query) };
        using var request = new HttpRequestMessage(HttpMethod.Get, builder.Uri);
        if (BasicHeader() is { } basic) request.Headers.Authorization = basic;
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) return null;
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
        foreach (var name in new[] { "token", "access_token" })
        {
            if (doc.RootElement.TryGetProperty(name, out var t) && t.GetString() is { Length: > 0 } token)
                return new AuthenticationHeaderValue("Bearer", token);
        }
        return null;
    }

    /// <summary>Splits <c>realm="…",service="…",scope="…"</c> (quoted values may contain commas).</summary>
    internal static Dictionary<string, string> ParseParameters(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i]))) i++;
            int eq = text.IndexOf('=', i);
            if (eq < 0) break;
            var key = text[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length) i++;
                    sb.Append(text[i++]);
                }
                i++;
                value = sb.ToString();
            }
            else
            {
                int end = text.IndexOf(',', i);
                if (end < 0) end = text.Length;
                value = text[i..end].Trim();
                i = end;
            }
            result[key] = value;
        }
        return result;
    }
}
