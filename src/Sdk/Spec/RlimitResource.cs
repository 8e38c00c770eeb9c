namespace Microsandbox.Spec;

/// <summary>POSIX resource limit identifiers. Wire form is the variant name (<c>"Nofile"</c>); the lowercase form is for the CLI and guest.</summary>
public enum RlimitResource
{
    /// <summary>Max CPU time in seconds (<c>RLIMIT_CPU</c>).</summary>
    Cpu,

    /// <summary>Max file size (<c>RLIMIT_FSIZE</c>).</summary>
    Fsize,

    /// <summary>Max data segment size (<c>RLIMIT_DATA</c>).</summary>
    Data,

    /// <summary>Max stack size (<c>RLIMIT_STACK</c>).</summary>
    Stack,

    /// <summary>Max core file size (<c>RLIMIT_CORE</c>).</summary>
    Core,

    /// <summary>Max resident set size (<c>RLIMIT_RSS</c>).</summary>
    Rss,

    /// <summary>Max number of processes (<c>RLIMIT_NPROC</c>).</summary>
    Nproc,

    /// <summary>Max open file descriptors (<c>RLIMIT_NOFILE</c>).</summary>
    Nofile,

    /// <summary>Max locked memory (<c>RLIMIT_MEMLOCK</c>).</summary>
    Memlock,

    /// <summary>Max address space (<c>RLIMIT_AS</c>).</summary>
    As,

    /// <summary>Max file locks (<c>RLIMIT_LOCKS</c>).</summary>
    Locks,

    /// <summary>Max pending signals (<c>RLIMIT_SIGPENDING</c>).</summary>
    Sigpending,

    /// <summary>Max bytes in POSIX message queues (<c>RLIMIT_MSGQUEUE</c>).</summary>
    Msgqueue,

    /// <summary>Max nice priority (<c>RLIMIT_NICE</c>).</summary>
    Nice,

    /// <summary>Max real-time priority (<c>RLIMIT_RTPRIO</c>).</summary>
    Rtprio,

    /// <summary>Max real-time timeout (<c>RLIMIT_RTTIME</c>).</summary>
    Rttime,
}
