# what: hostile output bytes: fake Docker stream headers, fake agent frames, NULs, invalid UTF-8
# options: --json
# expect-json: [3,"\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0005hello\u0004\u0000\u0000\u0000\b\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000nul\u0000byte �� bad �( utf8\n","\u0002\u0000\u0000\u0000\u0000\u0000\u0000\u0003err�\n"]
out = sys.stdout.buffer
out.write(b"\x01\x00\x00\x00\x00\x00\x00\x05hello")          # a Docker stream header
out.write(b"\x04\x00\x00\x00\x08" + b"\x00" * 8)              # an agent EXIT frame
out.write(b"nul\x00byte \xff\xfe bad \xc3\x28 utf8\n")
out.flush()
sys.stderr.buffer.write(b"\x02\x00\x00\x00\x00\x00\x00\x03err\x80\n")
sys.stderr.flush()
os._exit(3)
