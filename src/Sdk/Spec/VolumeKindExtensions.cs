namespace Microsandbox.Spec;

/// <summary>Database and CLI spellings of <see cref="VolumeKind"/>.</summary>
public static class VolumeKindExtensions
{
    /// <summary>Returns the lowercase database and CLI name: <c>dir</c> or <c>disk</c>.</summary>
    public static string AsStr(this VolumeKind kind) => kind == VolumeKind.Disk ? "disk" : "dir";

    /// <summary>Parses a persisted database value; anything but <c>disk</c> means a directory volume.</summary>
    public static VolumeKind FromDbValue(string value) => value == "disk" ? VolumeKind.Disk : VolumeKind.Directory;
}
