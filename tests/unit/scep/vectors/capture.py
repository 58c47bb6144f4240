# Serves a fixed RA + CA to scepclient and saves the PKIOperation it sends.
import http.server, sys, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    def reply(self, code, ctype, body):
        self.send_response(code); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        op = q.get("operation", [""])[0]
        if op == "GetCACert": self.reply(200, "application/x-x509-ca-ra-cert", open("cacert.p7b","rb").read())
        elif op == "GetCACaps": self.reply(200, "text/plain", b"POSTPKIOperation\nSHA-256\nAES\n")
        elif op == "PKIOperation":
            import base64; open("get-message.der","wb").write(base64.b64decode(q["message"][0])); self.reply(500,"text/plain",b"captured\n")
        else: self.reply(400, "text/plain", b"?\n")
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0")); body = self.rfile.read(n)
        open(sys.argv[2], "wb").write(body)
        open(sys.argv[2] + ".headers", "w").write(self.requestline + "\n" + str(self.headers))
        self.reply(500, "text/plain", b"captured\n")
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
