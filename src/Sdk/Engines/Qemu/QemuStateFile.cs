using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsandbox.Host;

namespace Microsandbox.Engines.Qemu;

/// <summary>
/// Writes a VM's migration stream to a file (the saved state a clone resumes with <c>-incoming fd:</c>): QEMU 7.2 has
/// no <c>file:</c> migration URI, so it migrates to a unix socket this process listens on and copies to the file.
/// Shared by both kinds of template (before the bootstrap, and ready-state).
/// </summary>
internal static class QemuStateFile
{
    /// <summary>
    /// Migrates the VM behind <paramref name="qmp"/> into <paramref name="statePath"/> (created; must not exist) and
    /// waits until QEMU reports the migration completed and the file is on disk. The VM is left paused.
    /// </summary>
    /// <param name="qmp">The VM's monitor.</param>
    /// <param name="migrationSocket">A free unix socket path (short enough for <c>sun_path</c>) for the stream.</param>
    /// <param name="statePath">Where the state goes.</param>
    public static void Save(QmpClient qmp, string migrationSocket, string statePath)
    {
        if (File.Exists(migrationSocket)) File.Delete(migrationSocket);
        using var listener = new Socket(new SafeSocketHandle(Libc.ListenUnix(migrationSocket, 1), ownsHandle: true));
        try
        {
            // Unthrottled: QEMU's default migration bandwidth (32 MiB/s) makes a save ten times slower.
            qmp.Execute("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 1L << 40, ["downtime-limit"] = 2000 });
            var copy = Task.Run(() =>
            {
                if (!listener.Poll(TimeSpan.FromSeconds(60), SelectMode.SelectRead))
                    throw new MicrosandboxException("QEMU did not open the migration stream");
                using var incoming = listener.Accept();
                using var source = new NetworkStream(incoming, ownsSocket: false);
                using var target = new FileStream(statePath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                source.CopyTo(target, 1 << 20);
                target.Flush(flushToDisk: true);
            });
            qmp.Execute("migrate", new JsonObject { ["uri"] = $"unix:{migrationSocket}" });
            WaitForMigration(qmp, TimeSpan.FromSeconds(60));
            if (!copy.Wait(TimeSpan.FromSeconds(30))) throw new MicrosandboxException("the saved state was not written in time");
            copy.GetAwaiter().GetResult();
        }
        finally
        {
            try { File.Delete(migrationSocket); } catch (IOException) { }
        }
    }

    private static void WaitForMigration(QmpClient qmp, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var status = qmp.Execute("query-migrate")?["status"]?.GetValue<string>();
            if (status == "completed") return;
            if (status is "failed" or "cancelled") throw new MicrosandboxException($"saving the VM state failed (migration {status})");
            Thread.Sleep(5);
        }
        throw new MicrosandboxException("saving the VM state did not finish in time");
    }
}
