using Microsoft.Extensions.Options;

namespace Microsandbox.Xunit;

/// <summary>Checks <see cref="MicrosandboxOptions"/> when the test assembly's services start; each message names the setting and the rule.</summary>
public sealed class MicrosandboxOptionsValidator : IValidateOptions<MicrosandboxOptions>
{
    /// <summary>Upstream's limit on sandbox names; the prefix leaves room for the unique suffix.</summary>
    internal const int MaxPrefixLength = 20;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, MicrosandboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.HomeDirectory is { } home)
        {
            if (home.Length == 0) failures.Add($"{nameof(MicrosandboxOptions.HomeDirectory)} must not be empty (leave it null for the default)");
            else if (!Path.IsPathFullyQualified(home)) failures.Add($"{nameof(MicrosandboxOptions.HomeDirectory)} must be an absolute path, got '{home}'");
        }
        if (options.BootTimeout <= TimeSpan.Zero) failures.Add($"{nameof(MicrosandboxOptions.BootTimeout)} must be positive, got {options.BootTimeout}");
        if (options.StopTimeout < TimeSpan.Zero) failures.Add($"{nameof(MicrosandboxOptions.StopTimeout)} must not be negative, got {options.StopTimeout}");
        if (options.PoolSize < 0) failures.Add($"{nameof(MicrosandboxOptions.PoolSize)} must be 0 or more, got {options.PoolSize}");
        if (options.PoolBootConcurrency < 1) failures.Add($"{nameof(MicrosandboxOptions.PoolBootConcurrency)} must be at least 1, got {options.PoolBootConcurrency}");
        if (options.DefaultImage is null) failures.Add($"{nameof(MicrosandboxOptions.DefaultImage)} must be set (for example BuiltinImages.Busybox)");
        if (string.IsNullOrEmpty(options.NamePrefix) || options.NamePrefix.Length > MaxPrefixLength
            || !options.NamePrefix.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            || !char.IsAsciiLetter(options.NamePrefix[0]))
        {
            failures.Add($"{nameof(MicrosandboxOptions.NamePrefix)} must be 1-{MaxPrefixLength} ASCII letters, digits or '-', starting with a letter, got '{options.NamePrefix}'");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
