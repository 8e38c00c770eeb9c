using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox.Images;

/// <summary>How to pull an image.</summary>
public sealed record PullOptions
{
    /// <summary>When to contact the registry. Default <see cref="PullPolicy.IfMissing"/>.</summary>
    public PullPolicy Policy { get; init; } = PullPolicy.IfMissing;

    /// <summary>Registry credentials, used for this pull only and never written anywhere.</summary>
    public RegistryAuth? Auth { get; init; }

    /// <summary>Use plain HTTP (loopback registries always do).</summary>
    public bool Insecure { get; init; }

    /// <summary>How many layers download at once. Default 3.</summary>
    public int MaxConcurrentDownloads { get; init; } = 3;

    /// <summary>Receives per-layer progress.</summary>
    public IProgress<PullProgress>? Progress { get; init; }
}

/// <summary>Progress of one layer.</summary>
/// <param name="Digest">The layer's digest.</param>
/// <param name="BytesDone">Bytes received (or the full size when it was cached).</param>
/// <param name="BytesTotal">The layer's size.</param>
/// <param name="Cached">True when the layer was already in the cache.</param>
public sealed record PullProgress(string Digest, long BytesDone, long BytesTotal, bool Cached);

/// <summary>The outcome of a pull.</summary>
public sealed record PullResult
{
    /// <summary>The reference that was pulled, normalised.</summary>
    public required ImageReference Reference { get; init; }

    /// <summary>The cached image.</summary>
    public required CachedImage Image { get; init; }

    /// <summary>The image's config (env, cmd, entrypoint, workdir, user…).</summary>
    public required ImageConfig Config { get; init; }

    /// <summary>True when nothing was asked of the registry (the cache answered).</summary>
    public bool FromCache { get; init; }

    /// <summary>Layers this call downloaded (the rest were cached or fetched by another process meanwhile).</summary>
    public int LayersDownloaded { get; init; }

    /// <summary>Bytes this call downloaded.</summary>
    public long BytesDownloaded { get; init; }
}
