namespace Microsandbox.Modules;

/// <summary>
/// A Redis server in a microVM, as Testcontainers' Redis module runs one: the image's own entrypoint, port 6379
/// published on a free host port, ready when Redis logs "Ready to accept connections". On the QEMU engine the first
/// server of a shape is saved once ready and later ones resume from it with Redis running (a ready-state template;
/// <c>WithSandbox(b =&gt; b.ReadyStateSnapshot(false))</c> turns it off). Immutable: every method returns a new builder.
/// </summary>
public sealed class RedisBuilder : IServiceModule<RedisSandbox>
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

    /// <summary>
    /// Adds the module's settings (image, published port, main process, wait, then <see cref="WithSandbox"/>'s) to a
    /// builder that already has its name: what fixtures and other front ends build on.
    /// </summary>
    public SandboxBuilder ApplyTo(SandboxBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configured = builder
            .Image(_image)
            .Port(0, RedisPort)
            .MainProcess()
            .WaitFor(Wait.ForLogMessage("Ready to accept connections"))
            .ReadyStateSnapshotWhenSupported();
        return _configure is null ? configured : _configure(configured);
    }

    /// <summary>The Redis handle for a sandbox booted from <see cref="ApplyTo"/>'s settings.</summary>
    public RedisSandbox Attach(Sandbox sandbox) => new(sandbox ?? throw new ArgumentNullException(nameof(sandbox)));

    /// <summary>Boots the server (an ephemeral sandbox) and returns once it accepts connections.</summary>
    public async Task<RedisSandbox> StartAsync(SandboxOptions? options = null, CancellationToken cancellationToken = default) =>
        Attach(await Sandbox.CreateAsync(ApplyTo(new SandboxBuilder(_name ?? ServiceModule.UniqueName("redis")).Ephemeral()), options, cancellationToken).ConfigureAwait(false));

    internal static Func<SandboxBuilder, SandboxBuilder> Chain(Func<SandboxBuilder, SandboxBuilder>? first, Func<SandboxBuilder, SandboxBuilder> then) =>
        first is null ? then : b => then(first(b));
}
