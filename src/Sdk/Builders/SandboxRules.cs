namespace Microsandbox;

/// <summary>
/// The sandbox-level validation rules of upstream microsandbox (sandbox name, hostname, env, labels,
/// init, script and volume names). Each failure throws <see cref="InvalidConfigException"/> with
/// upstream's message text.
/// </summary>
internal static class SandboxRules
{
    /// <summary>Maximum UTF-8 byte length of a sandbox name.</summary>
    public const int MaxSandboxNameBytes = 128;

    /// <summary>Maximum UTF-8 byte length of a guest hostname (the Linux UTS limit).</summary>
    public const int MaxHostnameBytes = 64;

    /// <summary>The init command that asks for automatic init discovery.</summary>
    public const string HandoffInitAuto = "auto";

    /// <summary>Label key prefixes reserved for built-in identity and resource attributes.</summary>
    public static readonly IReadOnlyList<string> ReservedLabelPrefixes = ["sandbox.", "microsandbox.", "service."];

    /// <summary>Checks a sandbox name: 1..128 bytes, starts alphanumeric, then alphanumerics, dots, hyphens, underscores.</summary>
    public static void ValidateSandboxName(string name)
    {
        if (name.Length == 0)
        {
            throw new InvalidConfigException("sandbox name must not be empty");
        }
        var bytes = System.Text.Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxSandboxNameBytes)
        {
            throw new InvalidConfigException(
                $"sandbox name must be at most {MaxSandboxNameBytes} characters: got {bytes}");
        }
        if (!IsAsciiAlphanumeric(name[0]) || !name.All(IsNameChar))
        {
            throw new InvalidConfigException(
                "sandbox name must start with an alphanumeric and contain only alphanumeric, dots, hyphens, and underscores: " + name);
        }
    }

    /// <summary>Checks an explicit hostname: non-empty and at most 64 bytes.</summary>
    public static void ValidateHostname(string? hostname)
    {
        if (hostname is null)
        {
            return;
        }
        if (hostname.Length == 0)
        {
            throw new InvalidConfigException("hostname must not be empty");
        }
        var bytes = System.Text.Encoding.UTF8.GetByteCount(hostname);
        if (bytes > MaxHostnameBytes)
        {
            throw new InvalidConfigException($"hostname is too long: {bytes} bytes (max {MaxHostnameBytes})");
        }
    }

    /// <summary>Checks that an environment variable key does not use the reserved <c>MSB_</c> prefix.</summary>
    public static void ValidateEnvKey(string key)
    {
        if (key.StartsWith("MSB_", StringComparison.Ordinal))
        {
            throw new InvalidConfigException(
                $"environment variable {RustText.Quote(key)} uses the reserved MSB_ prefix");
        }
    }

    /// <summary>The reserved prefix a label key starts with, or null.</summary>
    public static string? ReservedLabelPrefix(string key) =>
        ReservedLabelPrefixes.FirstOrDefault(prefix => key.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>Checks a user label key: non-empty and free of reserved prefixes.</summary>
    public static void ValidateLabelKey(string key)
    {
        if (key.Length == 0)
        {
            throw new InvalidConfigException("label key must not be empty");
        }
        if (ReservedLabelPrefix(key) is { } prefix)
        {
            throw new InvalidConfigException($"label key '{key}' uses reserved prefix '{prefix}'");
        }
    }

    /// <summary>Checks a named volume's name: starts alphanumeric, then alphanumerics, dots, hyphens, underscores.</summary>
    public static void ValidateVolumeName(string name)
    {
        if (name.Length == 0)
        {
            throw new InvalidConfigException("volume name must not be empty");
        }
        if (!IsAsciiAlphanumeric(name[0]) || !name.All(IsNameChar))
        {
            throw new InvalidConfigException(
                "volume name must start with an alphanumeric character and contain only alphanumeric characters, dots, hyphens, and underscores: " + name);
        }
    }

    /// <summary>Checks a script name: a single non-empty file name (scripts land in <c>/.msb/scripts/NAME</c>).</summary>
    public static void ValidateScriptName(string name)
    {
        if (name.Length == 0 || name is "." or ".." || name.Contains('\0') || name.Contains('/') || name.Contains('\\'))
        {
            throw new InvalidConfigException($"script name {RustText.Quote(name)} must be a single non-empty filename");
        }
    }

    /// <summary>Checks a handoff init: command path, argv entries and env pairs.</summary>
    public static void ValidateInit(string cmd, IEnumerable<string> args, IEnumerable<KeyValuePair<string, string>> env)
    {
        if (cmd.Contains('\0'))
        {
            throw new InvalidConfigException($"init cmd path must not contain a NUL byte: {RustText.Quote(cmd)}");
        }
        if (cmd.Contains('\\'))
        {
            throw new InvalidConfigException(
                $"init cmd is a guest (Linux) path and must not contain '\\' — use '/' separators: {RustText.Quote(cmd)}");
        }
        if (cmd != HandoffInitAuto && !cmd.StartsWith('/'))
        {
            throw new InvalidConfigException(
                $"init cmd must be an absolute path or `{HandoffInitAuto}`, got: {RustText.Quote(cmd)}");
        }
        var index = 0;
        foreach (var arg in args)
        {
            if (arg.Contains('\0'))
            {
                throw new InvalidConfigException($"init arg #{index} must not contain a NUL byte");
            }
            index++;
        }
        foreach (var (key, value) in env)
        {
            if (key.Length == 0)
            {
                throw new InvalidConfigException("init env key must not be empty");
            }
            if (key.Contains('='))
            {
                throw new InvalidConfigException($"init env key {RustText.Quote(key)} must not contain '='");
            }
            if (key.Contains('\0'))
            {
                throw new InvalidConfigException($"init env key {RustText.Quote(key)} must not contain NUL");
            }
            if (value.Contains('\0'))
            {
                throw new InvalidConfigException($"init env value for {RustText.Quote(key)} must not contain NUL");
            }
        }
    }

    private static bool IsAsciiAlphanumeric(char c) => char.IsAsciiLetterOrDigit(c);

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_';
}
