using MountFs.Vfs;

namespace MountFs.Tool.ImageFiles;

/// <summary>A seekable stream over one open file inside an image, so copies can use ordinary stream code.</summary>
internal sealed class ImageFileStream : Stream
{
    private readonly IFileSystem _fileSystem;
    private readonly HeldNode _node;
    private readonly ulong _handle;
    private readonly bool _writable;
    private readonly Func<FsException, Exception> _wrap;
    private long _position;
    private long _length;
    private bool _closed;

    public ImageFileStream(IFileSystem fileSystem, HeldNode node, ulong handle, bool writable, long length, Func<FsException, Exception> wrap)
    {
        _fileSystem = fileSystem;
        _node = node;
        _handle = handle;
        _writable = writable;
        _length = length;
        _wrap = wrap;
    }

    public override bool CanRead => !_writable;
    public override bool CanSeek => true;
    public override bool CanWrite => _writable;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = _fileSystem.Read(_node.Node, _handle, _position, buffer);
        }
        catch (FsException e)
        {
            throw _wrap(e);
        }
        _position += read;
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.IsEmpty) return;
        try
        {
            _fileSystem.Write(_node.Node, _handle, _position, buffer);
        }
        catch (FsException e)
        {
            throw _wrap(e);
        }
        _position += buffer.Length;
        _length = Math.Max(_length, _position);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        return _position;
    }

    /// <summary>Truncates or extends; extending leaves a hole where the layout has holes.</summary>
    public override void SetLength(long value)
    {
        try
        {
            _fileSystem.SetAttributes(_node.Node, new SetAttributes { Size = value }, _handle);
        }
        catch (FsException e)
        {
            throw _wrap(e);
        }
        _length = value;
    }

    public override void Flush()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_closed)
        {
            _closed = true;
            try
            {
                _fileSystem.Flush(_node.Node, _handle);
                _fileSystem.Release(_node.Node, _handle);
            }
            catch (FsException e)
            {
                throw _wrap(e);
            }
            finally
            {
                _node.Dispose();
            }
        }
        base.Dispose(disposing);
    }
}
