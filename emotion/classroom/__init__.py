"""Class rooms: students' emotion figures in, the teacher's view and reports out. No video enters a room.

records       Room, Student, Interval, RoomData, the errors, and the RoomStore interface
memory_store  rooms in this process (one machine)
redis_store   rooms in Redis (several replicas)
publisher     a student's figures sent from the video thread
analytics     pure functions of a room's figures: presence, class mix, timeline, flags, roster
reports       the CSV and HTML reports
"""
