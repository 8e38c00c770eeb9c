using Microsoft.Win32.SafeHandles;

namespace Microsandbox.Host;

/// <summary>Raw descriptor helpers for the fd-passing contract: close-on-exec pipes, memfds, whole-buffer reads and writes.</summary>
internal static unsafe class FileDescriptor
{
    /// <summary>Creates a close-on-exec pipe; the caller owns both ends.</summary>
    public static (int Read, int Write) CreatePipe()
    {
        int* fds = stackalloc int[2];
        Libc.Check(Libc.pipe2(fds, Libc.O_CLOEXEC), "pipe2");
        return (fds[0], fds[1]);
    }

    /// <summary>An anonymous in-memory file holding <paramref name="content"/>, rewound to offset 0.</summary>
    public static int CreateMemoryFile(string name, ReadOnlySpan<byte> content)
    {
        int fd = Libc.Check(Libc.memfd_create(name, Libc.MFD_CLOEXEC), "memfd_create");
        try
        {
            WriteAll(fd, content);
            if (Libc.lseek(fd, 0, 0) < 0) throw new IOException("lseek on launch config memfd failed");
            return fd;
        }
        catch
        {
            Libc.close(fd);
            throw;
        }
    }

    /// <summary>Writes every byte, retrying on EINTR and short writes.</summary>
    public static void WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            nint done = 0;
            while (done < data.Length)
            {
                nint n = Libc.write(fd, p + done, data.Length - done);
                if (n < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                    Libc.Check(-1, $"write(fd {fd})");
                }
                done += n;
            }
        }
    }

    /// <summary>Reads to end of file.</summary>
    public static byte[] ReadToEnd(int fd)
    {
        using var ms = new MemoryStream();
        var buf = new byte[16384];
        fixed (byte* p = buf)
        {
            while (true)
            {
                nint n = Libc.read(fd, p, buf.Length);
                if (n < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                    Libc.Check(-1, $"read(fd {fd})");
                }
                if (n == 0) break;
                ms.Write(buf, 0, (int)n);
            }
        }
        return ms.ToArray();
    }

    /// <summary>Wraps a descriptor in a stream that owns it.</summary>
    public static FileStream OpenStream(int fd, FileAccess access) =>
        new(new SafeFileHandle(fd, ownsHandle: true), access, bufferSize: 0);

    /// <summary>Closes a descriptor if it is valid.</summary>
    public static void Close(ref int fd)
    {
        if (fd >= 0) Libc.close(fd);
        fd = -1;
    }
}
