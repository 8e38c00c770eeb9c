using System.Text.RegularExpressions;

namespace Microsandbox.Images;

/// <summary>
/// A parsed OCI image reference: <c>[registry[:port]/]repository[:tag][@digest]</c>. The first path component is
/// the registry when it contains a dot or a colon or is <c>localhost</c>; otherwise the reference names the default
/// registry (<see cref="DefaultRegistry"/>: Docker Hub, as the docker CLI resolves <c>redis:7</c>), where a
/// single-component repository lives under <c>library/</c>. Without tag or digest the tag is <c>latest</c>.
/// </summary>
public sealed partial record ImageReference
{
    /// <summary>Environment variable naming another registry for references without a registry host (default: Docker Hub).</summary>
    public const string DefaultRegistryVariable = "MSB_DEFAULT_REGISTRY";

    /// <summary>Docker Hub's name in references (<c>docker.io/library/redis:7</c>); <c>index.docker.io</c> means the same.</summary>
    public const string DockerHub = "docker.io";

    /// <summary>The host that serves Docker Hub's registry API (the docker CLI's default endpoint).</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    /// <summary>The tag used when a reference names neither tag nor digest.</summary>
    public const string DefaultTag = "latest";

    /// <summary>The registry for references without a registry host: <c>$MSB_DEFAULT_REGISTRY</c>, else Docker Hub.</summary>
    public static string DefaultRegistry =>
        Environment.GetEnvironmentVariable(DefaultRegistryVariable) is { Length: > 0 } configured ? configured : DockerHub;

    /// <summary>Registry host with optional port, for example <c>127.0.0.1:5000</c>.</summary>
    public required string Registry { get; init; }

    /// <summary>Repository path within the registry, for example <c>library/busybox</c>.</summary>
    public required string Repository { get; init; }

    /// <summary>Tag, or null when the reference pins only a digest.</summary>
    public string? Tag { get; init; }

    /// <summary>Digest (<c>sha256:…</c>), or null.</summary>
    public string? Digest { get; init; }

    /// <summary>The text the reference was parsed from.</summary>
    public string Original { get; init; } = "";

    /// <summary>What to ask the registry's manifest endpoint for: the digest when pinned, else the tag.</summary>
    public string ManifestReference => Digest ?? Tag ?? DefaultTag;

    /// <summary>Whether the registry is on this machine's loopback interface (talked to over plain HTTP).</summary>
    public bool IsLoopbackRegistry
    {
        get
        {
            var host = RegistryHost;
            return host is "localhost" or "::1" || host.StartsWith("127.", StringComparison.Ordinal);
        }
    }

    /// <summary>The registry host without the port.</summary>
    public string RegistryHost
    {
        get
        {
            if (Registry.StartsWith('['))
            {
                var end = Registry.IndexOf(']', StringComparison.Ordinal);
                return end > 0 ? Registry[1..end] : Registry;
            }
            var colon = Registry.LastIndexOf(':');
            return colon > 0 ? Registry[..colon] : Registry;
        }
    }

    /// <summary>The full normalised form: <c>registry/repository[:tag][@digest]</c>.</summary>
    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is null ? "" : "@" + Digest)}";

    /// <summary>Parses a reference; the message of the error names the rule that was broken.</summary>
    /// <exception cref="InvalidConfigException">The text is not a valid reference.</exception>
    public static ImageReference Parse(string text)
    {
        if (TryParse(text, out var reference, out var error)) return reference;
        throw new InvalidConfigException($"invalid image reference '{text}': {error}");
    }

    /// <summary>Parses a reference, returning the problem instead of throwing.</summary>
    public static bool TryParse(string text, out ImageReference reference, out string error)
    {
        reference = null!;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the reference is empty";
            return false;
        }
        if (text.Trim() != text || text.Any(char.IsWhiteSpace))
        {
            error = "the reference contains whitespace";
            return false;
        }

        string rest = text;
        string? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!Images.Digest.IsValid(digest))
            {
                error = $"digest '{digest}' must be sha256: followed by 64 lower-case hex digits";
                return false;
            }
        }

        string registry;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? "" : rest[..slash];
        if (slash > 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost"))
        {
            registry = first == "index.docker.io" ? DockerHub : first;
            rest = rest[(slash + 1)..];
        }
        else
        {
            registry = DefaultRegistry;
        }

        string? tag = null;
        var lastColon = rest.LastIndexOf(':');
        if (lastColon >= 0)
        {
            tag = rest[(lastColon + 1)..];
            rest = rest[..lastColon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"tag '{tag}' must be 1-128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'";
                return false;
            }
        }

        if (rest.Length == 0)
        {
            error = "the repository name is empty";
            return false;
        }
        if (!RepositoryPattern().IsMatch(rest))
        {
            error = $"repository '{rest}' must be lower-case path components of letters, digits and single '.', '_', '__' or '-' separators";
            return false;
        }
        if ((registry == DefaultRegistry || registry == DockerHub) && !rest.Contains('/', StringComparison.Ordinal))
        {
            rest = "library/" + rest;
        }
        if (tag is null && digest is null) tag = DefaultTag;
        reference = new ImageReference { Registry = registry, Repository = rest, Tag = tag, Digest = digest, Original = text };
        return true;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();
}
