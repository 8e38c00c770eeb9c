using Microsandbox.Config;

namespace Microsandbox.Images;

/// <summary>An image ready to boot: its digest, its config and the cached root disk built from it.</summary>
/// <param name="Reference">The reference or path as given.</param>
/// <param name="ManifestDigest">Digest of the platform manifest.</param>
/// <param name="Config">The image config (env, cmd, entrypoint, workdir, user).</param>
/// <param name="DiskPath">The raw ext4 root disk; shared, so boot it copy-on-write.</param>
public sealed record PreparedOciImage(string Reference, string ManifestDigest, ImageConfig Config, string DiskPath);
