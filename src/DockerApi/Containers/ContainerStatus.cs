namespace Microsandbox.DockerApi.Containers;

/// <summary>Docker's container states this server uses (<c>State.Status</c>).</summary>
internal enum ContainerStatus
{
    /// <summary>Created, no VM yet: archive uploads are kept and copied in before the main process starts.</summary>
    Created,

    /// <summary>The sandbox runs its main process.</summary>
    Running,

    /// <summary>The main process ended or the container was stopped; logs stay readable until removal.</summary>
    Exited,
}
