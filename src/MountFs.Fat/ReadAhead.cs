namespace MountFs.Fat;

/// <summary>
/// Reads device ranges ahead of a sequential reader on a background thread, so that the host's page cache holds
/// them by the time the reader asks. Through FUSE the requests come one at a time in 128-256 KiB pieces, and the
/// host's own readahead on the image does not stay ahead of that pattern (measured: a cold 256 MiB read through
/// the mount doubled with the image read ahead by a second process).
/// </summary>
/// <remarks>Advisory only: the data read is thrown away and failures are ignored. Ranges wait in a small queue;
/// when the reader outruns the thread, the oldest ranges are dropped (they are no longer ahead).</remarks>
internal sealed class ReadAhead : IDisposable
{
    private const int Chunk = 1 << 20;
    private const int MaxQueued = 64;

    private readonly Action<long, Memory<byte>> _read;
    private readonly Queue<(long Offset, long Length)> _queue = new();
    private Thread? _thread;
    private bool _stopped;

    /// <param name="read">Reads device bytes at an offset into the buffer (the caller's guards included).</param>
    public ReadAhead(Action<long, Memory<byte>> read) => _read = read;

    /// <summary>Device bytes to bring in, in the order they will be needed.</summary>
    public void Enqueue(long offset, long length)
    {
        if (length <= 0) return;
        lock (_queue)
        {
            if (_stopped) return;
            while (_queue.Count >= MaxQueued) _queue.Dequeue();
            _queue.Enqueue((offset, length));
            if (_thread == null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "fat-readahead" };
                _thread.Start();
            }
            else Monitor.Pulse(_queue);
        }
    }

    private void Run()
    {
        var buffer = new byte[Chunk];
        while (true)
        {
            long offset, length;
            lock (_queue)
            {
                while (_queue.Count == 0 && !_stopped) Monitor.Wait(_queue);
                if (_stopped) return;
                (offset, length) = _queue.Dequeue();
            }
            for (long done = 0; done < length && !Volatile.Read(ref _stopped); done += Chunk)
            {
                try { _read(offset + done, buffer.AsMemory(0, (int)Math.Min(Chunk, length - done))); }
                catch (Exception) { break; /* advisory: the real read will report any problem */ }
            }
        }
    }

    public void Dispose()
    {
        lock (_queue)
        {
            _stopped = true;
            _queue.Clear();
            Monitor.PulseAll(_queue);
        }
    }
}
