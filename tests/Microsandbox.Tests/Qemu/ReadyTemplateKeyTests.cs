using Microsandbox.Agent;
using Microsandbox.Engines.Qemu;
using Microsandbox.Runtime;

namespace Microsandbox.Tests.Qemu;

/// <summary>
/// What makes two sandboxes the same shape for a ready-state template (everything the guest did before the save, but
/// not the name), how a saver's and a clone's launch are formed, and the resume message's wire shape.
/// </summary>
public sealed class ReadyTemplateKeyTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("msb-readykey-");

    public void Dispose() => _dir.Delete(recursive: true);

    private LaunchConfig Launch(string name, Func<SandboxBuilder, SandboxBuilder> configure, StartupCommand? startup = null) =>
        QemuLaunches.Complete(QemuLaunches.Engine(), _dir.FullName, name, configure) with { Startup = startup ?? MainProcess() };

    private static StartupCommand MainProcess(string cmd = "redis-server", IReadOnlyList<StartupFile>? files = null) =>
        new() { Cmd = cmd, Files = files ?? [] };

    private string File(string name, string content)
    {
        var path = Path.Combine(_dir.FullName, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void The_name_hostname_and_staged_file_paths_do_not_change_the_shape()
    {
        var a = Launch("alpha", b => b.Hostname("a"), MainProcess(files: [new StartupFile(File("a.conf", "port 1"), "/etc/x.conf", 0x1a4, null, null)]));
        var b = Launch("beta", b => b.Hostname("b"), MainProcess(files: [new StartupFile(File("b.conf", "port 1"), "/etc/x.conf", 0x1a4, null, null)]));
        Assert.Equal(QemuReadyTemplates.Key(a, ["log /x/"]), QemuReadyTemplates.Key(b, ["log /x/"]));
    }

    [Fact]
    public void Env_command_file_content_waits_and_published_guest_ports_do()
    {
        var plain = QemuReadyTemplates.Key(Launch("p", b => b), ["log /x/"]);
        Assert.NotEqual(plain, QemuReadyTemplates.Key(Launch("p", b => b.Env("X", "1")), ["log /x/"]));
        Assert.NotEqual(plain, QemuReadyTemplates.Key(Launch("p", b => b, MainProcess("postgres")), ["log /x/"]));
        Assert.NotEqual(plain, QemuReadyTemplates.Key(Launch("p", b => b), ["log /y/"]));
        Assert.NotEqual(plain, QemuReadyTemplates.Key(Launch("p", b => b.Port(0, 6379)), ["log /x/"]));
        var one = Launch("p", b => b, MainProcess(files: [new StartupFile(File("c1", "one"), "/c", null, null, null)]));
        var two = Launch("p", b => b, MainProcess(files: [new StartupFile(File("c2", "two"), "/c", null, null, null)]));
        Assert.NotEqual(QemuReadyTemplates.Key(one, []), QemuReadyTemplates.Key(two, []));
    }

    [Fact]
    public void A_saver_gets_a_monitor_that_is_no_part_of_the_shape_and_a_clone_resumes_instead_of_booting()
    {
        var launch = Launch("s", b => b);
        var saver = QemuReadyTemplates.AsSaver(launch, Path.Combine(_dir.FullName, "tpl"));
        Assert.Contains("-qmp", saver.Qemu!.Argv);
        Assert.EndsWith("qmp.sock", saver.Qemu.QmpSocket, StringComparison.Ordinal);
        Assert.Equal(QemuTemplates.Key(launch), QemuTemplates.Key(saver));

        var template = Directory.CreateDirectory(Path.Combine(_dir.FullName, "saved")).FullName;
        System.IO.File.WriteAllText(Path.Combine(template, "ready.json"), """{"main_session_id": 4261412865}""");
        var clone = QemuReadyTemplates.AsClone(launch, template);
        Assert.Equal(new QemuReadyResume(template, 4261412865u), clone.Qemu!.ReadyResume);
        Assert.Equal(Path.Combine(template, "state"), clone.Qemu.RestoreState);
        Assert.Contains("-incoming", clone.Qemu.Argv);
        Assert.DoesNotContain("-kernel", clone.Qemu.Argv);
    }

    [Fact]
    public void The_main_process_slot_owns_the_session_ids_of_a_saved_guest()
    {
        var start = QemuReadyTemplates.MainProcessSlot * AgentProtocol.RelayIdRangeStep + 1;
        Assert.Equal(AgentProtocol.RelayMaxClients - 1, Math.Min(start / AgentProtocol.RelayIdRangeStep, AgentProtocol.RelayMaxClients - 1));
    }

    [Fact]
    public void Resume_carries_clock_entropy_and_an_optional_hostname_in_cbor()
    {
        var resume = SnapshotResume.Now("clone-1");
        var wire = AgentMessage.Create(0, resume).ToWireBytes();
        var message = AgentMessage.FromRawFrame(new RawFrame(0, wire[8], wire.AsMemory(9)));
        Assert.Equal("msb.snapshot.resume", message.Type);
        Assert.Equal(0, wire[8]);
        var back = message.ReadPayload<SnapshotResume>();
        Assert.Equal(resume.UnixTimeNanos, back.UnixTimeNanos);
        Assert.Equal(resume.Entropy, back.Entropy);
        Assert.Equal(32, back.Entropy.Length);
        Assert.Equal("clone-1", back.Hostname);
        Assert.NotEqual(resume.Entropy, SnapshotResume.Now(null).Entropy);
        Assert.Null(AgentMessage.Create(0, SnapshotResume.Now(null)).ReadPayload<SnapshotResume>().Hostname);
    }
}
