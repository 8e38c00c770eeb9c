using Microsandbox.Config;
using Microsandbox.Spec;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Images;

/// <summary>
/// Where OCI images meet the create path. <see cref="PrepareAsync"/> (called by the launcher before the engine
/// resolves the image) pulls the image by the sandbox's pull policy and registry settings, assembles its root disk
/// and merges the image config into the sandbox config; <see cref="BootDisk"/> (called by the engines'
/// <c>ResolveImage</c> with the disk the launcher got from the preparation) swaps the OCI source for that disk.
/// </summary>
public static class OciImages
{
    /// <summary>
    /// For an OCI root: pulls (honouring <see cref="SandboxSpec.PullPolicy"/>, <see cref="SandboxConfig.RegistryAuth"/>
    /// and <see cref="SandboxConfig.Insecure"/>), builds the root disk sized for the upper size, and returns the config
    /// with the image's env, cmd, entrypoint, workdir and user merged under the user's settings and
    /// <see cref="SandboxConfig.ManifestDigest"/> set. Any other root is returned unchanged.
    /// </summary>
    public static async Task<SandboxConfig> PrepareAsync(SandboxConfig config, SandboxOptions options, CancellationToken cancellationToken = default) =>
        (await PrepareWithRootDiskAsync(config, options, cancellationToken).ConfigureAwait(false)).Config;

    /// <summary><see cref="PrepareAsync"/>, also returning the root disk built for an OCI image (null for other roots).</summary>
    internal static async Task<(SandboxConfig Config, string? RootDisk)> PrepareWithRootDiskAsync(SandboxConfig config, SandboxOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        if (config.Spec.Image is not RootfsSource.Oci oci) return (config, null);
        var upper = config.WithRootfsDefaults().Spec.Image.OciUpperSizeMib ?? SandboxConfig.DefaultOciUpperSizeMib;
        var image = await EnsureRootDiskAsync(oci.Source.Reference, options, new PullOptions
        {
            Policy = config.Spec.PullPolicy,
            Auth = config.RegistryAuth,
            Insecure = config.Insecure,
        }, upper, cancellationToken).ConfigureAwait(false);
        var merged = config.MergeImageDefaults(image.Config, options.LoggerFactory.CreateLogger("Microsandbox.Images")) with { ManifestDigest = image.ManifestDigest };
        return (merged, image.DiskPath);
    }

    /// <summary>
    /// Pulls (or loads, for a local layout or archive path) an image into the cache under <see cref="SandboxOptions.HomeDirectory"/>
    /// and builds its root disk: everything a sandbox needs from the image, without creating one (for front ends that
    /// prepare images ahead of time).
    /// </summary>
    /// <param name="reference">An OCI reference, or a path to an OCI layout directory, OCI archive or docker save archive.</param>
    /// <param name="options">Where the state directory is, and the logger.</param>
    /// <param name="pull">Pull policy, credentials and transport; default: IfMissing, anonymous.</param>
    /// <param name="upperSizeMib">Free space for guest writes on the disk (the OCI upper size).</param>
    /// <param name="cancellationToken">Stops the pull or build.</param>
    public static async Task<PreparedOciImage> EnsureRootDiskAsync(string reference, SandboxOptions options, PullOptions? pull = null,
        uint upperSizeMib = SandboxConfig.DefaultOciUpperSizeMib, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(options);
        var logger = options.LoggerFactory.CreateLogger("Microsandbox.Images");
        var cache = new ImageCache(options.Home.Root);
        var result = await new ImagePuller(cache, logger).PullAsync(reference, pull, cancellationToken).ConfigureAwait(false);
        var disk = await new RootfsBuilder(cache, logger).BuildAsync(result.Image, upperSizeMib, cancellationToken).ConfigureAwait(false);
        return new PreparedOciImage(reference, result.Image.ManifestDigest, result.Config, disk);
    }

    /// <summary>
    /// The spec with its OCI root replaced by the raw ext4 disk <see cref="PrepareAsync"/> built for it (booted
    /// copy-on-write, so the cached disk stays pristine). Other roots are returned unchanged.
    /// </summary>
    /// <param name="spec">The sandbox spec.</param>
    /// <param name="rootDisk">The disk the preparation built (null when it was skipped).</param>
    /// <exception cref="MicrosandboxException">An OCI root without a prepared disk.</exception>
    public static SandboxSpec BootDisk(SandboxSpec spec, string? rootDisk)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Image is not RootfsSource.Oci oci) return spec;
        if (rootDisk is null || !File.Exists(rootDisk))
            throw new MicrosandboxException($"image: the OCI image '{oci.Source.Reference}' was not prepared for sandbox '{spec.Name}' (call OciImages.PrepareAsync first)");
        return spec with { Image = new RootfsSource.DiskImage { Path = rootDisk, Format = DiskImageFormat.Raw, Fstype = "ext4" } };
    }

    /// <summary>
    /// What every engine does with a spec's image: an OCI root becomes its prepared disk, a directory or disk root
    /// must exist.
    /// </summary>
    internal static SandboxSpec ResolveRoot(SandboxSpec spec, string? preparedRootDisk) => spec.Image switch
    {
        RootfsSource.Oci => BootDisk(spec, preparedRootDisk),
        RootfsSource.Bind bind when !Directory.Exists(bind.Path) => throw new MicrosandboxException($"image: root directory '{bind.Path}' does not exist"),
        RootfsSource.DiskImage disk when !File.Exists(disk.Path) => throw new MicrosandboxException($"image: disk image '{disk.Path}' does not exist"),
        _ => spec,
    };
}
