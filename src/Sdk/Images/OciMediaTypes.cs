namespace Microsandbox.Images;

/// <summary>The media types of the OCI image spec and the Docker v2 schema 2 formats this client reads.</summary>
public static class OciMediaTypes
{
    /// <summary>OCI image index (multi-platform).</summary>
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";

    /// <summary>OCI image manifest.</summary>
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";

    /// <summary>OCI image config.</summary>
    public const string ImageConfig = "application/vnd.oci.image.config.v1+json";

    /// <summary>OCI layer, uncompressed tar.</summary>
    public const string Layer = "application/vnd.oci.image.layer.v1.tar";

    /// <summary>OCI layer, gzip-compressed tar.</summary>
    public const string LayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

    /// <summary>OCI layer, zstd-compressed tar (not supported: no zstd decoder in the base library).</summary>
    public const string LayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

    /// <summary>Docker manifest list (multi-platform).</summary>
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

    /// <summary>Docker image manifest, schema 2.</summary>
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    /// <summary>Docker image config.</summary>
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";

    /// <summary>Docker layer, gzip-compressed tar.</summary>
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    /// <summary>Whether a media type is a multi-platform index.</summary>
    public static bool IsIndex(string? mediaType) => mediaType is ImageIndex or DockerManifestList;

    /// <summary>Whether a media type is a single-platform manifest.</summary>
    public static bool IsManifest(string? mediaType) => mediaType is ImageManifest or DockerManifest;

    /// <summary>The Accept header value for manifest requests: every manifest and index type this client reads.</summary>
    public static readonly IReadOnlyList<string> ManifestAccept = [ImageIndex, ImageManifest, DockerManifestList, DockerManifest];
}
