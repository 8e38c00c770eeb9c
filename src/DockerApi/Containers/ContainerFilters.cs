using System.Text.Json;
using Microsandbox.DockerApi.Http;

namespace Microsandbox.DockerApi.Containers;

/// <summary>
/// The <c>filters</c> of <c>GET /containers/json</c> (<c>{"label":["k=v"],"name":["x"],"status":["running"],"id":["…"]}</c>):
/// every key must match (values of one key: any); an unknown key is refused by name.
/// </summary>
internal sealed class ContainerFilters
{
    private readonly Dictionary<string, List<string>> _filters;

    private ContainerFilters(Dictionary<string, List<string>> filters) => _filters = filters;

    public static ContainerFilters Parse(string json)
    {
        var filters = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json)) return new ContainerFilters(filters);
        try
        {
            using var doc = JsonDocument.Parse(json);
            foreach (var key in doc.RootElement.EnumerateObject())
            {
                if (key.Name is not ("label" or "name" or "status" or "id"))
                    throw DockerApiException.BadRequest($"invalid filter '{key.Name}' (supported: label, name, status, id)");
                // Old clients send {"key":{"value":true}}, newer ones {"key":["value"]}.
                filters[key.Name] = key.Value.ValueKind == JsonValueKind.Array
                    ? [.. key.Value.EnumerateArray().Select(v => v.GetString() ?? "")]
                    : [.. key.Value.EnumerateObject().Select(p => p.Name)];
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw DockerApiException.BadRequest($"filters: not valid JSON ({ex.Message})");
        }
        return new ContainerFilters(filters);
    }

    public bool Matches(DockerContainer container)
    {
        foreach (var (key, values) in _filters)
        {
            bool any = key switch
            {
                "label" => values.All(v => MatchesLabel(ContainerView.Labels(container), v)),
                "name" => values.Any(v => container.Name.Contains(v.TrimStart('/'), StringComparison.Ordinal)),
                "status" => values.Any(v => v == ContainerView.StatusText(container.Status)),
                "id" => values.Any(v => container.Id.StartsWith(v, StringComparison.Ordinal)),
                _ => true,
            };
            if (!any) return false;
        }
        return true;
    }

    private static bool MatchesLabel(IReadOnlyDictionary<string, string> labels, string filter)
    {
        var eq = filter.IndexOf('=', StringComparison.Ordinal);
        return eq < 0 ? labels.ContainsKey(filter) : labels.TryGetValue(filter[..eq], out var value) && value == filter[(eq + 1)..];
    }
}
