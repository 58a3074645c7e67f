"""Sparkplug B test vectors from an independent encoder: Google's protobuf runtime with
sparkplug_b.proto (Eclipse Tahu, commit 5736e404) compiled by grpcio-tools. Prints one
`name hex` line per payload; protocol/src/sparkplug.rs's tests hold the output.

    python3 -m venv target/spb-venv && target/spb-venv/bin/pip install grpcio-tools protobuf
    target/spb-venv/bin/python gateway-shim/tests/peers/sparkplug/vectors.py
"""
import os, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
out = tempfile.mkdtemp()
subprocess.check_call([sys.executable, "-m", "grpc_tools.protoc", f"-I{here}", f"--python_out={out}", "sparkplug_b.proto"])
sys.path.insert(0, out)
import sparkplug_b_pb2 as pb  # noqa: E402

def nbirth():
    p = pb.Payload(timestamp=1764201600123, seq=0)
    m = p.metrics.add(name="bdSeq", alias=0, timestamp=1764201600123, datatype=pb.UInt64, long_value=7)
    m = p.metrics.add(name="Node Control/Rebirth", alias=1, timestamp=1764201600123, datatype=pb.Boolean, boolean_value=False)
    return p

def dbirth():
    p = pb.Payload(timestamp=1764201600200, seq=1)
    p.metrics.add(name="press1/temperature", alias=2, timestamp=1764201600200, datatype=pb.Double, double_value=71.3)
    p.metrics.add(name="press1/count", alias=3, timestamp=1764201600200, datatype=pb.Int32, int_value=(-5) & 0xFFFFFFFF)
    p.metrics.add(name="press1/f", alias=4, timestamp=1764201600200, datatype=pb.Float, float_value=1.5)
    p.metrics.add(name="press1/big", alias=5, timestamp=1764201600200, datatype=pb.Int64, long_value=(-2) & 0xFFFFFFFFFFFFFFFF)
    p.metrics.add(name="press1/off", alias=6, timestamp=1764201600200, datatype=pb.Double, is_null=True)
    p.metrics.add(name="press1/label", alias=7, timestamp=1764201600200, datatype=pb.String, string_value="ok")
    return p

def ddata():
    p = pb.Payload(timestamp=1764201601000, seq=255)
    p.metrics.add(alias=2, timestamp=1764201601000, datatype=pb.Double, double_value=-0.25)
    p.metrics.add(alias=5, timestamp=1764201601000, datatype=pb.Int64, long_value=(-2) & 0xFFFFFFFFFFFFFFFF)
    return p

def ncmd_rebirth():
    p = pb.Payload(timestamp=1764201602000)
    p.metrics.add(name="Node Control/Rebirth", datatype=pb.Boolean, boolean_value=True)
    return p

def with_properties():
    # A property set, a data set and a template: the nested messages decode, not only metrics.
    p = pb.Payload(timestamp=1, seq=2, uuid="u")
    m = p.metrics.add(name="m", alias=9, datatype=pb.Double, double_value=2.0)
    m.properties.keys.append("engUnit")
    m.properties.values.add(type=pb.String, string_value="°C")
    d = p.metrics.add(name="ds", datatype=pb.DataSet)
    d.dataset_value.num_of_columns = 1
    d.dataset_value.columns.append("c")
    d.dataset_value.types.append(pb.Int32)
    d.dataset_value.rows.add().elements.add(int_value=4)
    t = p.metrics.add(name="tpl", datatype=pb.Template)
    t.template_value.version = "1"
    t.template_value.is_definition = True
    t.template_value.metrics.add(name="inner", datatype=pb.Double, double_value=3.0)
    t.template_value.parameters.add(name="par", type=pb.Int32, int_value=1)
    return p

for name, f in [("nbirth", nbirth), ("dbirth", dbirth), ("ddata", ddata), ("ncmd_rebirth", ncmd_rebirth), ("with_properties", with_properties)]:
    print(name, f().SerializeToString().hex())
