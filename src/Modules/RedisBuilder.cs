namespace Microsandbox.Modules;

/// <summary>
/// A Redis server in a microVM, as Testcontainers' Redis module runs one: the image's own entrypoint, port 6379
/// published on a free host port, ready when Redis logs "Ready to accept connections". Immutable: every method returns
/// a new builder.
/// </summary>
public sealed class RedisBuilder
{
    /// <summary>The image used unless <see cref="WithImage"/> names another (Docker Hub's official image).</summary>
    public const string DefaultImage = "redis:7";

    /// <summary>The port Redis listens on in the guest.</summary>
    public const ushort RedisPort = 6379;

    private readonly string _image;
    private readonly string? _name;
    private readonly Func<SandboxBuilder, SandboxBuilder>? _configure;

    /// <summary>A builder for <see cref="DefaultImage"/>.</summary>
    public RedisBuilder()
        : this(DefaultImage, null, null)
    {
    }

    private RedisBuilder(string image, string? name, Func<SandboxBuilder, SandboxBuilder>? configure)
    {
        _image = image;
        _name = name;
        _configure = configure;
    }

    /// <summary>Another image: a reference (<c>redis:7.2</c>) or a local OCI layout or archive path.</summary>
    public RedisBuilder WithImage(string image) => new(image ?? throw new ArgumentNullException(nameof(image)), _name, _configure);

    /// <summary>The sandbox's name (default: <c>redis-</c> and a random suffix).</summary>
    public RedisBuilder WithName(string name) => new(_image, name ?? throw new ArgumentNullException(nameof(name)), _configure);

    /// <summary>Further sandbox settings (memory, environment, mounts…), applied after the module's own.</summary>
    public RedisBuilder WithSandbox(Func<SandboxBuilder, SandboxBuilder> configure) =>
        new(_image, _name, Chain(_configure, configure ?? throw new ArgumentNullException(nameof(configure))));

    /// <summary>The sandbox the module boots, before <see cref="WithSandbox"/>'s settings.</summary>
    internal SandboxBuilder ToSandboxBuilder() =>
        new SandboxBuilder(_name ?? ServiceModule.UniqueName("redis"))
            .Image(_image)
            .Ephemeral()
            .Port(0, RedisPort)
            .MainProcess()
            .WaitFor(Wait.ForLogMessage("Ready to accept connections"));

    /// <summary>Boots the server and returns once it accepts connections.</summary>
    public async Task<RedisSandbox> StartAsync(SandboxOptions? options = null, CancellationToken cancellationToken = default) =>
        new(await ServiceModule.StartAsync(ToSandboxBuilder(), _configure, options, cancellationToken).ConfigureAwait(false));

    internal static Func<SandboxBuilder, SandboxBuilder> Chain(Func<SandboxBuilder, SandboxBuilder>? first, Func<SandboxBuilder, SandboxBuilder> then) =>
        first is null ? then : b => then(first(b));
}
