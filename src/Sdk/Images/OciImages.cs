using System.Collections.Concurrent;
using Microsandbox.Config;
using Microsandbox.Spec;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Images;

/// <summary>
/// Where OCI images meet the create path. <see cref="PrepareAsync"/> (called by the launcher before the engine
/// resolves the image) pulls the image by the sandbox's pull policy and registry settings, assembles its root disk
/// and merges the image config into the sandbox config; <see cref="BootDisk"/> (called by the QEMU engine's
/// <c>ResolveImage</c>) swaps the OCI source for that disk.
/// </summary>
public static class OciImages
{
    // Hand-off from PrepareAsync to the engine's synchronous ResolveImage within one create, keyed by sandbox name.
    private static readonly ConcurrentDictionary<string, string> Prepared = new(StringComparer.Ordinal);

    /// <summary>
    /// For an OCI root: pulls (honouring <see cref="SandboxSpec.PullPolicy"/>, <see cref="SandboxConfig.RegistryAuth"/>
    /// and <see cref="SandboxConfig.Insecure"/>), builds the root disk sized for the upper size, and returns the config
    /// with the image's env, cmd, entrypoint, workdir and user merged under the user's settings and
    /// <see cref="SandboxConfig.ManifestDigest"/> set. Any other root is returned unchanged.
    /// </summary>
    public static async Task<SandboxConfig> PrepareAsync(SandboxConfig config, SandboxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        if (config.Spec.Image is not RootfsSource.Oci oci) return config;
        var logger = options.LoggerFactory.CreateLogger("Microsandbox.Images");
        var cache = new ImageCache(options.Home.Root);
        var pull = await new ImagePuller(cache, logger).PullAsync(oci.Source.Reference, new PullOptions
        {
            Policy = config.Spec.PullPolicy,
            Auth = config.RegistryAuth,
            Insecure = config.Insecure,
        }, cancellationToken).ConfigureAwait(false);
        var upper = config.WithRootfsDefaults().Spec.Image.OciUpperSizeMib ?? SandboxConfig.DefaultOciUpperSizeMib;
        var disk = await new RootfsBuilder(cache, logger).BuildAsync(pull.Image, upper, cancellationToken).ConfigureAwait(false);
        Prepared[config.Spec.Name] = disk;
        return config.MergeImageDefaults(pull.Config, logger) with { ManifestDigest = pull.Image.ManifestDigest };
    }

    /// <summary>
    /// The spec with its OCI root replaced by the raw ext4 disk <see cref="PrepareAsync"/> built for this sandbox
    /// (booted copy-on-write, so the cached disk stays pristine).
    /// </summary>
    /// <exception cref="MicrosandboxException">No disk was prepared for this sandbox in this process.</exception>
    public static SandboxSpec BootDisk(SandboxSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Image is not RootfsSource.Oci oci) return spec;
        if (!Prepared.TryRemove(spec.Name, out var disk) || !File.Exists(disk))
            throw new MicrosandboxException($"image: the OCI image '{oci.Source.Reference}' was not prepared for sandbox '{spec.Name}' (call OciImages.PrepareAsync first)");
        return spec with { Image = new RootfsSource.DiskImage { Path = disk, Format = DiskImageFormat.Raw, Fstype = "ext4" } };
    }
}
