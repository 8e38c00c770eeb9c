using Microsandbox.Agent;
using Microsandbox.Spec;

namespace Microsandbox.Runtime;

/// <summary>
/// Applies a spec's patches inside the booted guest, in order, before the sandbox is handed to the caller (so before
/// any user command runs). Engine-neutral: everything goes through the agent's fs and exec messages.
/// </summary>
internal static class PatchApplier
{
    public static async Task ApplyAsync(AgentClient agent, IReadOnlyList<Patch> patches, CancellationToken cancellationToken)
    {
        for (int i = 0; i < patches.Count; i++)
        {
            try
            {
                await ApplyOneAsync(agent, patches[i], cancellationToken).ConfigureAwait(false);
            }
            catch (MicrosandboxException e)
            {
                throw new MicrosandboxException($"patches[{i}] ({patches[i].GetType().Name}): {e.Message}", e);
            }
        }
    }

    private static async Task ApplyOneAsync(AgentClient agent, Patch patch, CancellationToken ct)
    {
        switch (patch)
        {
            case Patch.Text t:
                await GuardAsync(agent, t.Path, t.Replace, ct).ConfigureAwait(false);
                await EnsureParentAsync(agent, t.Path, ct).ConfigureAwait(false);
                await agent.WriteFileAsync(t.Path, System.Text.Encoding.UTF8.GetBytes(t.Content), t.Mode, ct).ConfigureAwait(false);
                break;
            case Patch.File f:
                await GuardAsync(agent, f.Path, f.Replace, ct).ConfigureAwait(false);
                await EnsureParentAsync(agent, f.Path, ct).ConfigureAwait(false);
                await agent.WriteFileAsync(f.Path, f.Content, f.Mode, ct).ConfigureAwait(false);
                break;
            case Patch.CopyFile c:
                if (!File.Exists(c.Src)) throw new MicrosandboxException($"source file '{c.Src}' does not exist on the host");
                await GuardAsync(agent, c.Dst, c.Replace, ct).ConfigureAwait(false);
                await EnsureParentAsync(agent, c.Dst, ct).ConfigureAwait(false);
                await using (var source = File.OpenRead(c.Src))
                    await agent.WriteFileAsync(c.Dst, source, c.Mode ?? GuestCopy.ModeOf(c.Src), ct).ConfigureAwait(false);
                break;
            case Patch.CopyDir d:
                if (!Directory.Exists(d.Src)) throw new MicrosandboxException($"source directory '{d.Src}' does not exist on the host");
                await GuardAsync(agent, d.Dst, d.Replace, ct).ConfigureAwait(false);
                await GuestCopy.CopyInAsync(agent, d.Src, d.Dst, null, null, null, ct).ConfigureAwait(false);
                break;
            case Patch.Symlink s:
                await GuardAsync(agent, s.Link, s.Replace, ct).ConfigureAwait(false);
                await EnsureParentAsync(agent, s.Link, ct).ConfigureAwait(false);
                await RunAsync(agent, ct, "ln", "-sfn", s.Target, s.Link).ConfigureAwait(false);
                break;
            case Patch.Mkdir m:
                await agent.MkdirAsync(m.Path, m.Mode, ct).ConfigureAwait(false);
                break;
            case Patch.Remove r:
                await RunAsync(agent, ct, "rm", "-rf", "--", r.Path).ConfigureAwait(false);
                break;
            case Patch.Append a:
                var existing = await ExistsAsync(agent, a.Path, ct).ConfigureAwait(false)
                    ? await agent.ReadFileAsync(a.Path, ct).ConfigureAwait(false)
                    : [];
                var appended = existing.Concat(System.Text.Encoding.UTF8.GetBytes(a.Content)).ToArray();
                await agent.WriteFileAsync(a.Path, appended, null, ct).ConfigureAwait(false);
                break;
        }
    }

    // Upstream refuses to overwrite an existing guest path unless the patch says replace.
    private static async Task GuardAsync(AgentClient agent, string path, bool replace, CancellationToken ct)
    {
        if (!replace && await ExistsAsync(agent, path, ct).ConfigureAwait(false))
            throw new MicrosandboxException($"'{path}' already exists in the image; set replace to overwrite it");
    }

    private static async Task EnsureParentAsync(AgentClient agent, string path, CancellationToken ct)
    {
        var parent = path[..Math.Max(1, path.LastIndexOf('/'))];
        if (!await ExistsAsync(agent, parent, ct).ConfigureAwait(false)) await agent.MkdirAsync(parent, null, ct).ConfigureAwait(false);
    }

    private static async Task<bool> ExistsAsync(AgentClient agent, string path, CancellationToken ct)
    {
        try
        {
            await agent.StatAsync(path, false, ct).ConfigureAwait(false);
            return true;
        }
        catch (SandboxFsException)
        {
            return false;
        }
    }

    // Patches edit the image as its owner would, whatever user the sandbox runs commands as.
    private static async Task RunAsync(AgentClient agent, CancellationToken ct, string program, params string[] args)
    {
        var result = await agent.ExecBufferedAsync(new ExecRequest(program) { Args = args, User = "root" }, cancellationToken: ct).ConfigureAwait(false);
        if (result.ExitCode != 0)
            throw new MicrosandboxException($"{program} {string.Join(' ', args)} exited with {result.ExitCode}: {result.StderrText.Trim()}");
    }
}
