using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Microsandbox.Images;

/// <summary>Content digests in OCI form, <c>sha256:&lt;64 hex&gt;</c> (the only algorithm this client accepts).</summary>
public static partial class Digest
{
    /// <summary>Whether <paramref name="digest"/> is a well-formed sha256 digest.</summary>
    public static bool IsValid(string? digest) => digest is not null && Sha256Pattern().IsMatch(digest);

    /// <summary>The hex part of a valid digest.</summary>
    /// <exception cref="ArgumentException">The digest is not a well-formed sha256 digest.</exception>
    public static string Hex(string digest) =>
        IsValid(digest) ? digest["sha256:".Length..] : throw new ArgumentException($"'{digest}' is not a sha256 digest", nameof(digest));

    /// <summary>The digest shortened for messages, as docker prints it: <c>sha256:</c> and 12 hex digits.</summary>
    internal static string Short(string digest) => digest.Length > 19 ? digest[..19] : digest;

    /// <summary>The digest of <paramref name="content"/>.</summary>
    public static string Of(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The digest of a file's content.</summary>
    public static async Task<string> OfFileAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var stream = File.OpenRead(path);
        return "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    [GeneratedRegex("^sha256:[a-f0-9]{64}$")]
    private static partial Regex Sha256Pattern();
}
