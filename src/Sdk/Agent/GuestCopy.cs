namespace Microsandbox.Agent;

/// <summary>
/// Copies a host file or directory tree into the guest through the agent's file operations, with the host's modes or
/// a given one, and an owner when given (uid/gid applied to every copied path). Host symlinks are skipped, never
/// followed out of the tree. Used by <see cref="SandboxFileSystem"/> and by the sandbox process for files copied in
/// before the main process starts.
/// </summary>
internal static class GuestCopy
{
    public static async Task CopyInAsync(AgentClient agent, string hostPath, string guestPath, uint? mode, uint? uid, uint? gid, CancellationToken cancellationToken)
    {
        // The destination's parents are made as `mkdir -p` would (owned by root, 0755).
        var parent = guestPath.TrimEnd('/');
        parent = parent[..Math.Max(0, parent.LastIndexOf('/'))];
        if (parent.Length > 0) await agent.MkdirAsync(parent, null, cancellationToken).ConfigureAwait(false);
        await CopyTreeAsync(agent, hostPath, guestPath, mode, uid, gid, cancellationToken).ConfigureAwait(false);
    }

    private static async Task CopyTreeAsync(AgentClient agent, string hostPath, string guestPath, uint? mode, uint? uid, uint? gid, CancellationToken cancellationToken)
    {
        if (File.Exists(hostPath))
        {
            await using var source = File.OpenRead(hostPath);
            await agent.WriteFileAsync(guestPath, source, mode ?? ModeOf(hostPath), cancellationToken).ConfigureAwait(false);
            await ChownAsync(agent, guestPath, uid, gid, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!Directory.Exists(hostPath)) throw new FileNotFoundException($"copy-in source '{hostPath}' does not exist", hostPath);
        await agent.MkdirAsync(guestPath, ModeOf(hostPath), cancellationToken).ConfigureAwait(false);
        await ChownAsync(agent, guestPath, uid, gid, cancellationToken).ConfigureAwait(false);
        foreach (var entry in new DirectoryInfo(hostPath).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null) continue;
            // A mode given for a tree applies to its files; directories keep the host's, so they stay traversable.
            await CopyTreeAsync(agent, entry.FullName, guestPath.TrimEnd('/') + "/" + entry.Name, mode, uid, gid, cancellationToken).ConfigureAwait(false);
        }
    }

    private static Task ChownAsync(AgentClient agent, string guestPath, uint? uid, uint? gid, CancellationToken cancellationToken) =>
        uid is null && gid is null
            ? Task.CompletedTask
            : agent.SetAttributesAsync(guestPath, new FsSetAttrs { Uid = uid, Gid = gid }, cancellationToken);

    internal static uint ModeOf(string hostPath) => OperatingSystem.IsWindows() ? 0x1a4u : (uint)File.GetUnixFileMode(hostPath);
}
