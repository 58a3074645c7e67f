"""A Modbus server (pymodbus 3.16) for the Modbus source's integration tests (tests/modbus.rs).

Its registers hold a known value of every type in every byte order, encoded here with
struct.pack and independently of the Rust decoder. `--print-layout` prints where each value is
(as JSON) and exits, so the test builds its config from it:

    modbus_server.py --print-layout
    modbus_server.py --tcp 5020 [--unit 1]
    modbus_server.py --rtu /tmp/ttyA [--unit 1] [--unit 2 ...] [--baud 9600]

Stop it by killing it. Uses pymodbus's SimDevice/SimData datastore (the ModbusDeviceContext
family is deprecated in 3.16). Addresses are 0-based protocol addresses; anything not listed
below answers exception 2 (illegal data address).
"""

import argparse
import asyncio
import json
import struct

from pymodbus import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

ORDERS = ["ABCD", "CDAB", "BADC", "DCBA"]
FORMATS = {"i16": "h", "u16": "H", "i32": "i", "u32": "I", "f32": "f", "i64": "q", "u64": "Q", "f64": "d"}


def words(kind_type, value, order):
    """The registers holding `value` as `kind_type` in `order`, from its big-endian bytes."""
    be = struct.pack(">" + FORMATS[kind_type], value)
    pairs = [be[i : i + 2] for i in range(0, len(be), 2)]
    if order in ("CDAB", "DCBA"):  # least significant register first
        pairs.reverse()
    if order in ("BADC", "DCBA"):  # bytes swapped within each register
        pairs = [p[::-1] for p in pairs]
    return [int.from_bytes(p, "big") for p in pairs]


def expected(kind_type, value):
    """What the value reads back as once stored in its type (f32 loses precision)."""
    fmt = ">" + FORMATS[kind_type]
    return float(struct.unpack(fmt, struct.pack(fmt, value))[0])


def layout():
    """Every value: stream name, table, address, type, order (None for 16-bit), value, words."""
    entries, holding = [], []

    def add(table, regs, start, name, ty, order, value):
        entries.append(
            {"stream": name, "kind": table, "address": start + len(regs), "type": ty, "order": order,
             "value": expected(ty, value)}
        )
        regs.extend(words(ty, value, order or "ABCD"))

    add("holding", holding, 0, "h/i16", "i16", None, -12345)
    add("holding", holding, 0, "h/u16", "u16", None, 54321)
    bases = {"i32": -123456789, "u32": 3000000000, "f32": -1234.5678,
             "i64": -1234567890123456, "u64": 0x0102030405060708, "f64": -3141.592653589793}
    for ty, base in bases.items():
        for j, order in enumerate(ORDERS):
            # A different value at every address, so that reading the wrong one shows.
            value = base - j if ty[0] in "iu" else base * (j + 1)
            add("holding", holding, 0, f"h/{ty}/{order}", ty, order, value)
    # Input registers: a block at 10 (with nothing at 13) and one at 20.
    input10, input20 = [], []
    add("input", input10, 10, "i/u16", "u16", None, 4242)
    add("input", input10, 10, "i/f32", "f32", "ABCD", 71.25)
    add("input", input20, 20, "i/i32/DCBA", "i32", "DCBA", -7)
    coils = [True, False, True, True]
    discretes = [False, True, True]
    for i, bit in enumerate(coils):
        entries.append({"stream": f"c/{i}", "kind": "coil", "address": i, "type": "bool", "order": None,
                        "value": float(bit)})
    for i, bit in enumerate(discretes):
        entries.append({"stream": f"d/{5 + i}", "kind": "discrete", "address": 5 + i, "type": "bool",
                        "order": None, "value": float(bit)})
    blocks = (
        [SimData(0, values=coils, datatype=DataType.BITS)],
        [SimData(5, values=discretes, datatype=DataType.BITS)],
        [SimData(0, values=holding, datatype=DataType.REGISTERS)],
        [SimData(10, values=input10, datatype=DataType.REGISTERS),
         SimData(20, values=input20, datatype=DataType.REGISTERS)],
    )
    return entries, blocks


async def serve(args):
    # Each unit id gets its own copy of the same registers (several devices on one line).
    devices = [SimDevice(id=unit, simdata=layout()[1]) for unit in args.unit or [1]]
    if args.tcp is not None:
        server = ModbusTcpServer(devices, address=("127.0.0.1", args.tcp))
    else:
        server = ModbusSerialServer(devices, framer=FramerType.RTU, port=args.rtu, baudrate=args.baud)
    await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", type=int, metavar="PORT", help="Modbus TCP on 127.0.0.1:PORT")
    where.add_argument("--rtu", metavar="DEVICE", help="Modbus RTU on a serial device")
    where.add_argument("--print-layout", action="store_true", help="print the register layout as JSON")
    parser.add_argument("--unit", type=int, action="append", help="unit (slave) id, default 1; repeatable")
    parser.add_argument("--baud", type=int, default=9600, help="serial speed, default 9600")
    args = parser.parse_args()
    if args.print_layout:
        print(json.dumps(layout()[0]))
        return
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
