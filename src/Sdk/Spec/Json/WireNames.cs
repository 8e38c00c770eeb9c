namespace Microsandbox.Spec.Json;

/// <summary>The JSON spelling of every unit-only enum of the contract, indexed by the C# enum value.</summary>
internal static class WireNames
{
    private static readonly Dictionary<Type, string[]> Names = new()
    {
        // Rust variant names as is (serde's default external tagging).
        [typeof(DiskImageFormat)] = ["Qcow2", "Raw", "Vmdk"],
        [typeof(PullPolicy)] = ["IfMissing", "Always", "Never"],
        [typeof(VolumeKind)] = ["Directory", "Disk"],
        [typeof(NamedVolumeMode)] = ["Existing", "Create", "EnsureExists"],
        [typeof(RlimitResource)] =
        [
            "Cpu", "Fsize", "Data", "Stack", "Core", "Rss", "Nproc", "Nofile",
            "Memlock", "As", "Locks", "Sigpending", "Msgqueue", "Nice", "Rtprio", "Rttime",
        ],
        // rename_all = "lowercase" / explicit renames.
        [typeof(StatVirtualization)] = ["strict", "relaxed", "off"],
        [typeof(HostPermissions)] = ["private", "mirror"],
        [typeof(SecurityProfile)] = ["default", "restricted"],
        [typeof(PortProtocol)] = ["tcp", "udp"],
        [typeof(SandboxLogLevel)] = ["error", "warn", "info", "debug", "trace"],
        [typeof(LogSource)] = ["stdout", "stderr", "output", "system"],
    };

    public static bool Supports(Type type) => Names.ContainsKey(type);

    public static IReadOnlyList<string> Of<TEnum>() where TEnum : struct, Enum => Names[typeof(TEnum)];

    public static IReadOnlyList<string> Of(Type type) => Names[type];

    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum
    {
        var names = Names[typeof(TEnum)];
        int index = Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
        return index >= 0 && index < names.Length
            ? names[index]
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"not a {typeof(TEnum).Name} value");
    }
}
