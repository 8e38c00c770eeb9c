using Microsandbox.Host;

namespace Microsandbox.Runtime;

/// <summary>
/// Whether a kept sandbox was created with a main process, so that starting it again runs it again (as
/// <c>docker start</c> does): a file of ours in the sandbox's directory, since upstream's persisted config has no
/// field for it (upstream's detached startup command is transient too).
/// </summary>
internal static class MainProcessMarker
{
    private const string FileName = "main-process";

    public static void Write(MicrosandboxHome home, string name, bool keep)
    {
        var path = Path.Combine(home.SandboxDirectory(name), FileName);
        if (keep)
        {
            Directory.CreateDirectory(home.SandboxDirectory(name));
            File.WriteAllText(path, "");
        }
        else if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    public static bool IsSet(MicrosandboxHome home, string name) => File.Exists(Path.Combine(home.SandboxDirectory(name), FileName));
}
