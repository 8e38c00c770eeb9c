using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsandbox.DockerApi.Http;
using Microsandbox.DockerApi.Images;

namespace Microsandbox.DockerApi.Containers;

/// <summary>The containers this server knows, found as Docker finds them: full ID, unique ID prefix, or name.</summary>
internal sealed class ContainerStore
{
    private readonly ConcurrentDictionary<string, DockerContainer> _byId = new(StringComparer.Ordinal);

    public IReadOnlyList<DockerContainer> All => [.. _byId.Values.OrderByDescending(c => c.Created)];

    public DockerContainer Add(string? name, ContainerCreateRequest request, LocalImage image)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        name = name is null or "" ? "msb-" + id[..12] : name.TrimStart('/');
        var container = new DockerContainer(id, name, request, image);
        lock (_byId)
        {
            if (_byId.Values.Any(c => c.Name == name))
                throw DockerApiException.Conflict($"Conflict. The container name \"/{name}\" is already in use by container \"{_byId.Values.First(c => c.Name == name).Id}\". You have to remove (or rename) that container to be able to reuse that name.");
            _byId[id] = container;
        }
        return container;
    }

    public DockerContainer Get(string idOrName)
    {
        var key = idOrName.TrimStart('/');
        if (_byId.TryGetValue(key, out var byId)) return byId;
        var named = _byId.Values.FirstOrDefault(c => c.Name == key);
        if (named is not null) return named;
        var prefixed = _byId.Values.Where(c => c.Id.StartsWith(key, StringComparison.Ordinal)).Take(2).ToList();
        return prefixed.Count switch
        {
            1 when key.Length > 0 => prefixed[0],
            > 1 => throw DockerApiException.BadRequest($"multiple containers found with provided prefix: {key}"),
            _ => throw DockerApiException.NotFound($"No such container: {idOrName}"),
        };
    }

    public void Remove(DockerContainer container) => _byId.TryRemove(container.Id, out _);
}
