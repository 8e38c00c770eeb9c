using System.Globalization;

namespace Microsandbox.Modules;

/// <summary>A running Redis server; disposing it stops and removes its VM.</summary>
public sealed class RedisSandbox : IServiceSandbox
{
    internal RedisSandbox(Sandbox sandbox) => Sandbox = sandbox;

    /// <summary>The sandbox the server runs in (exec, logs, files).</summary>
    public Sandbox Sandbox { get; }

    /// <summary><c>HOST:PORT</c> of the published Redis port, as StackExchange.Redis and redis-cli take it.</summary>
    public string GetConnectionString() =>
        string.Create(CultureInfo.InvariantCulture, $"{ConnectableHost.For(Sandbox.GetMappedHost(RedisBuilder.RedisPort))}:{Sandbox.GetMappedPort(RedisBuilder.RedisPort)}");

    /// <summary>Runs <c>redis-cli</c> in the guest with <paramref name="arguments"/>.</summary>
    public Task<ExecOutput> ExecCliAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default) =>
        Sandbox.ExecAsync("redis-cli", arguments, cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Sandbox.DisposeAsync();
}
