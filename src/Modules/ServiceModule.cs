namespace Microsandbox.Modules;

/// <summary>What every module's builder shares.</summary>
internal static class ServiceModule
{
    /// <summary>A name unique to this start: the module's prefix and 12 random hex digits.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
