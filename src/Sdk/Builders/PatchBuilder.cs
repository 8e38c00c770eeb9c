using System.Collections.Immutable;
using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// Collects rootfs patches applied before the VM starts, in call order. By default a patch that targets a
/// path already present in the rootfs fails; pass <c>replace: true</c> to shadow it.
/// Immutable: every method returns a new builder.
/// </summary>
public sealed class PatchBuilder
{
    private readonly ImmutableList<Patch> _patches;

    /// <summary>Creates an empty patch list.</summary>
    public PatchBuilder() : this(ImmutableList<Patch>.Empty) { }

    private PatchBuilder(ImmutableList<Patch> patches) => _patches = patches;

    /// <summary>Writes text to a guest file. <paramref name="mode"/> is the permission bits (null: default).</summary>
    public PatchBuilder Text(string path, string content, uint? mode = null, bool replace = false) =>
        Add(new Patch.Text { Path = NotNull(path), Content = NotNull(content), Mode = mode, Replace = replace });

    /// <summary>Writes raw bytes to a guest file.</summary>
    public PatchBuilder File(string path, ReadOnlyMemory<byte> content, uint? mode = null, bool replace = false) =>
        Add(new Patch.File { Path = NotNull(path), Content = content.ToArray(), Mode = mode, Replace = replace });

    /// <summary>Copies a host file into the rootfs. A null <paramref name="mode"/> keeps the source's permissions.</summary>
    public PatchBuilder CopyFile(string src, string dst, uint? mode = null, bool replace = false) =>
        Add(new Patch.CopyFile { Src = NotNull(src), Dst = NotNull(dst), Mode = mode, Replace = replace });

    /// <summary>Copies a host directory into the rootfs.</summary>
    public PatchBuilder CopyDir(string src, string dst, bool replace = false) =>
        Add(new Patch.CopyDir { Src = NotNull(src), Dst = NotNull(dst), Replace = replace });

    /// <summary>Creates a symlink at <paramref name="link"/> pointing to <paramref name="target"/>.</summary>
    public PatchBuilder Symlink(string target, string link, bool replace = false) =>
        Add(new Patch.Symlink { Target = NotNull(target), Link = NotNull(link), Replace = replace });

    /// <summary>Creates a directory (no error if it exists).</summary>
    public PatchBuilder Mkdir(string path, uint? mode = null) => Add(new Patch.Mkdir { Path = NotNull(path), Mode = mode });

    /// <summary>Removes a file or directory (no error if it is absent).</summary>
    public PatchBuilder Remove(string path) => Add(new Patch.Remove { Path = NotNull(path) });

    /// <summary>Appends text to a file, copying it up from a lower layer first if needed.</summary>
    public PatchBuilder Append(string path, string content) =>
        Add(new Patch.Append { Path = NotNull(path), Content = NotNull(content) });

    /// <summary>Returns the patches in the order they were added.</summary>
    public IReadOnlyList<Patch> Build() => _patches;

    private PatchBuilder Add(Patch patch) => new(_patches.Add(patch));

    private static string NotNull(string value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? name = null) =>
        value ?? throw new ArgumentNullException(name);
}
