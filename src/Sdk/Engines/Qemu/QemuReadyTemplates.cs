using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsandbox.Agent;
using Microsandbox.Host;
using Microsandbox.Runtime;

namespace Microsandbox.Engines.Qemu;

/// <summary>
/// Ready-state templates: a service's guest saved after its main process started and its readiness waits held, so
/// the next sandbox of the same shape resumes with the service already running and ready. The guest's whole writable
/// state is in its RAM (root disk read-only under a tmpfs overlay), so the saved memory is consistent with the disk
/// every clone boots; each clone gets its own hostname, clock and entropy (<c>msb.snapshot.resume</c>), its own
/// published ports, and writes only to its own RAM.
/// <para>
/// The shape is the pre-bootstrap template's shape plus everything that happened in the guest before the save: the
/// bootstrap (less the hostname), the main process with its environment and the content of the files copied in, the
/// published guest ports and the waits. Templates live in <c>cache/qemu-ready/&lt;key&gt;/</c>: <c>state</c>,
/// <c>ready.json</c> and the main process's <c>exec.log</c> up to the save.
/// </para>
/// </summary>
internal static class QemuReadyTemplates
{
    private const string StateFile = "state";
    private const string MetaFile = "ready.json";

    /// <summary>The relay slot of the main process's client: the same in the saved guest and in every clone, so the clone's client owns the session's id range.</summary>
    public const uint MainProcessSlot = AgentProtocol.RelayMaxClients - 1;

    /// <summary>How many ready-state templates a state directory keeps (each holds a service's memory).</summary>
    public const int MaxTemplates = 8;

    /// <summary>Where a home keeps its ready-state templates.</summary>
    public static string Directory(MicrosandboxHome home) => Path.Combine(home.Root, "cache", "qemu-ready");

    /// <summary>The ready-state key of a completed QEMU launch with its main process and waits.</summary>
    public static string Key(LaunchConfig launch, IEnumerable<string> waits)
    {
        var text = new StringBuilder();
        text.Append("shape ").Append(QemuTemplates.Key(launch)).Append('\n');
        var bootstrap = launch.Bootstrap.DeepClone().AsObject();
        bootstrap.Remove("hostname"); // every clone takes its own
        text.Append("bootstrap ").Append(bootstrap.ToJsonString()).Append('\n');
        if (launch.Startup is { } startup)
        {
            text.Append("startup ").Append(JsonSerializer.Serialize(startup with { Files = [] }, LaunchJson.Default.StartupCommand)).Append('\n');
            foreach (var file in startup.Files)
            {
                // Staged paths differ per sandbox: the content is what the guest saw.
                text.Append("file ").Append(file.Dst).Append(' ').Append(file.Mode).Append(' ').Append(file.Uid).Append(' ').Append(file.Gid)
                    .Append(' ').Append(ContentHash(file.Src)).Append('\n');
            }
        }
        foreach (var port in launch.Qemu?.Ports ?? []) text.Append("port ").Append(port.Protocol).Append(' ').Append(port.GuestPort).Append('\n');
        foreach (var wait in waits) text.Append("wait ").Append(wait).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

    // A file's bytes, or a directory tree's names, modes and bytes, as one hash.
    private static string ContentHash(string path)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (File.Exists(path))
        {
            using var stream = File.OpenRead(path);
            hash.AppendData(SHA256.HashData(stream));
        }
        else if (System.IO.Directory.Exists(path))
        {
            foreach (var entry in System.IO.Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(path, entry) + "\n"));
                if (File.Exists(entry))
                {
                    using var stream = File.OpenRead(entry);
                    hash.AppendData(SHA256.HashData(stream));
                }
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The template directory for <paramref name="key"/>, or null when none is saved.</summary>
    public static string? Find(MicrosandboxHome home, string key)
    {
        var dir = Path.Combine(Directory(home), key);
        return File.Exists(Path.Combine(dir, StateFile)) && File.Exists(Path.Combine(dir, MetaFile)) ? dir : null;
    }

    /// <summary>The launch turned into a clone of the ready-state template in <paramref name="template"/>.</summary>
    public static LaunchConfig AsClone(LaunchConfig launch, string template)
    {
        var meta = JsonNode.Parse(File.ReadAllText(Path.Combine(template, MetaFile)))
            ?? throw new MicrosandboxException($"ready-state template {template}: {MetaFile} is empty");
        var session = meta["main_session_id"]?.GetValue<uint>()
            ?? throw new MicrosandboxException($"ready-state template {template}: {MetaFile} has no main_session_id");
        var clone = QemuTemplates.AsClone(launch, Path.Combine(template, StateFile));
        QemuTemplates.Touch(Path.Combine(template, StateFile));
        return clone with { Qemu = clone.Qemu! with { ReadyResume = new QemuReadyResume(template, session) } };
    }

    /// <summary>
    /// The launch of a sandbox that saves its ready-state template into <paramref name="template"/> once asked:
    /// its VM gets a QMP monitor next to its agent socket.
    /// </summary>
    public static LaunchConfig AsSaver(LaunchConfig launch, string template)
    {
        var q = launch.Qemu!;
        var qmp = Path.Combine(Path.GetDirectoryName(launch.AgentSock)!, "qmp.sock");
        return launch with
        {
            Qemu = q with
            {
                Argv = [.. q.Argv, "-qmp", $"unix:{QemuCommandLine.Escape(qmp)},server=on,wait=off"],
                QmpSocket = qmp,
                ReadyTemplate = template,
            },
        };
    }

    /// <summary>
    /// Saves the running VM of <paramref name="launch"/> as its ready-state template (the guest must be quiesced):
    /// writes the state, the main process's session id and log next to it; the VM then runs on. A template another
    /// sandbox saved first is kept and this one dropped.
    /// </summary>
    public static void Save(LaunchConfig launch, uint mainSessionId, Func<bool> vmmAlive)
    {
        var q = launch.Qemu!;
        var final = q.ReadyTemplate ?? throw new MicrosandboxException("this sandbox was not launched to save a ready-state template");
        var qmpSocket = q.QmpSocket ?? throw new MicrosandboxException("this sandbox's VM has no monitor to save its state with");
        var staging = final + "." + Environment.ProcessId + ".tmp";
        if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true);
        System.IO.Directory.CreateDirectory(staging);
        try
        {
            using (var qmp = QmpClient.Connect(qmpSocket, TimeSpan.FromSeconds(5), vmmAlive))
            {
                try
                {
                    // Migrated while running (the guest is quiesced and idle, so it converges at once): a state saved
                    // from a paused VM would restore paused, since QEMU carries the run state over.
                    QemuStateFile.Save(qmp, Path.Combine(Path.GetDirectoryName(launch.AgentSock)!, "mig.sock"), Path.Combine(staging, StateFile));
                }
                finally
                {
                    // A completed migration leaves this VM paused (postmigrate): it carries on whatever happened.
                    qmp.Execute("cont");
                }
            }
            var log = Path.Combine(launch.LogDir, ExecLog.FileName);
            if (File.Exists(log)) File.Copy(log, Path.Combine(staging, ExecLog.FileName));
            File.WriteAllText(Path.Combine(staging, MetaFile), new JsonObject
            {
                ["main_session_id"] = mainSessionId,
                ["saved_at"] = DateTimeOffset.UtcNow.ToString("O"),
            }.ToJsonString());
            if (System.IO.Directory.Exists(final)) return; // another sandbox of this shape saved first
            System.IO.Directory.Move(staging, final);
        }
        finally
        {
            if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true);
        }
        QemuTemplates.Prune(Path.GetDirectoryName(final)!, MaxTemplates);
    }

    /// <summary>Forgets a template (e.g. one this QEMU can no longer restore).</summary>
    public static void Delete(MicrosandboxHome home, string key) => QemuTemplates.DeleteDirectory(Path.Combine(Directory(home), key));
}
