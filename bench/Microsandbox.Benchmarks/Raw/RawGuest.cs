using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsandbox.Engines.Qemu;
using Microsandbox.Host;

namespace Microsandbox.Benchmarks.Raw;

/// <summary>
/// The baseline the toolkit is measured against: a hand-written QEMU command line with the same kernel, the same
/// modules and the same virtio-serial port, but a trivial shell init instead of our agent and no C# in between.
/// The init loads the modules the port needs (the agent's "boot" group), says "ready" on the port, then answers each
/// line by running <c>busybox echo</c> (a fork + exec, like a real exec round trip). It mounts no root disk: it is the
/// floor, not an equivalent.
/// </summary>
public sealed class RawGuest : IAsyncDisposable
{
    private readonly Process _qemu;
    private readonly Socket _listener;
    private readonly NetworkStream _port;
    private readonly StreamReader _reader;

    private RawGuest(Process qemu, Socket listener, NetworkStream port)
    {
        _qemu = qemu;
        _listener = listener;
        _port = port;
        _reader = new StreamReader(port, Encoding.ASCII);
    }

    /// <summary>Builds the trivial initramfs once (busybox + the engine's modules + a shell /init).</summary>
    public static string BuildInitrd(QemuAssets assets, string workDir)
    {
        var root = Path.Combine(workDir, "raw-initrd");
        if (Directory.Exists(root)) Directory.Delete(root, true);
        Directory.CreateDirectory(root);
        Cpio(root, ["-id", "--quiet"], File.ReadAllBytes(assets.Initrd), null);
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"), overwrite: true);
        File.Delete(Path.Combine(root, "init"));
        File.WriteAllText(Path.Combine(root, "init"), """
            #!/bin/busybox sh
            /bin/busybox mount -t proc proc /proc
            /bin/busybox mount -t sysfs sys /sys
            /bin/busybox mount -t devtmpfs dev /dev
            while read group m; do [ "$group" = boot ] && /bin/busybox insmod "$m"; done < /etc/msb/modules
            dev=
            while [ -z "$dev" ]; do
              for p in /sys/class/virtio-ports/*; do
                [ -e "$p/name" ] && [ "$(/bin/busybox cat "$p/name")" = agent ] && dev="/dev/${p##*/}"
              done
              [ -n "$dev" ] && [ -e "$dev" ] || { dev=; /bin/busybox usleep 1000; }
            done
            exec 3<>"$dev"
            echo ready >&3
            while read -r line <&3; do /bin/busybox echo "$line" >&3; done
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(Path.Combine(root, "init"), (UnixFileMode)0x1ed);
        var initrd = Path.Combine(workDir, "raw-initrd.cpio");
        var names = string.Join('\n', Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Select(p => "." + p[root.Length..])) + "\n";
        Cpio(root, ["-o", "-H", "newc", "--quiet"], Encoding.UTF8.GetBytes(names), initrd);
        return initrd;
    }

    /// <summary>Boots the raw guest and returns once it said "ready".</summary>
    public static async Task<RawGuest> BootAsync(QemuAssets assets, string initrd, string workDir)
    {
        var sock = Path.Combine(workDir, $"raw-{Guid.NewGuid():N}"[..20] + ".sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(sock));
        listener.Listen(1);
        var psi = new ProcessStartInfo(assets.QemuBinary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=on", "-accel", "tcg", "-m", "512", "-smp", "1",
                     "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                     "-kernel", assets.Kernel, "-initrd", initrd,
                     "-append", $"console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz={HostCpu.TscKhz()}",
                     "-device", "virtio-serial-device",
                     "-chardev", $"socket,id=agent,path={sock},server=off",
                     "-device", "virtserialport,chardev=agent,name=agent",
                 })
            psi.ArgumentList.Add(a);
        var qemu = Process.Start(psi)!;
        var conn = await listener.AcceptAsync();
        File.Delete(sock);
        var guest = new RawGuest(qemu, listener, new NetworkStream(conn, ownsSocket: true));
        var first = await guest._reader.ReadLineAsync();
        if (first != "ready") throw new InvalidOperationException($"raw guest said '{first}'");
        return guest;
    }

    /// <summary>One round trip: a line out, the echoed line back.</summary>
    public async Task<string?> EchoAsync(string line)
    {
        await _port.WriteAsync(Encoding.ASCII.GetBytes(line + "\n"));
        return await _reader.ReadLineAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_qemu.HasExited) _qemu.Kill();
        await _qemu.WaitForExitAsync();
        _qemu.Dispose();
        await _port.DisposeAsync();
        _listener.Dispose();
    }

    private static void Cpio(string workingDirectory, string[] args, byte[] stdin, string? stdoutFile)
    {
        var psi = new ProcessStartInfo("/usr/bin/cpio") { WorkingDirectory = workingDirectory, RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var copy = Task.Run(() =>
        {
            using var target = stdoutFile is null ? Stream.Null : File.Create(stdoutFile);
            p.StandardOutput.BaseStream.CopyTo(target);
        });
        p.StandardInput.BaseStream.Write(stdin);
        p.StandardInput.Close();
        p.WaitForExit();
        copy.Wait();
        if (p.ExitCode != 0) throw new InvalidOperationException($"cpio {string.Join(' ', args)} exited {p.ExitCode}");
    }
}
