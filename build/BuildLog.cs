namespace Microsandbox.Build;

/// <summary>Console output of the build program itself, kept apart from child processes' output by a prefix.</summary>
internal static class BuildLog
{
    private static readonly bool UseColor =
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    public static void Target(string name, string description) =>
        Write($"==> {name}: {description}", "\u001b[1;36m");

    public static void Command(string display) => Write($"$ {display}", "\u001b[2m");

    public static void Info(string message) => Write($"    {message}", null);

    public static void Warn(string message) => Write($"warning: {message}", "\u001b[33m");

    public static void Error(string message) => Write($"error: {message}", "\u001b[31m");

    public static void Plain(string message) => Write(message, null);

    private static void Write(string text, string? color)
    {
        Console.Out.WriteLine(UseColor && color is not null ? $"{color}{text}\u001b[0m" : text);
        Console.Out.Flush();
    }
}
